import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from curation.models import ImportFormat, ImportJob, ImportStatus, Project
from curation.services.imports import import_file, import_options
from curation.services.imports.problems import where
from curation.services.projects import project_create
from curation.services.seed_task_search import seed_task_search_needs_job
from curation.text.plural import counted, kind_counted

# Where stderr is not a terminal (a log file, CI) carriage returns would run every update into one line:
# there progress is a line per update, at most one every this many seconds, and each phase's last count.
LOG_PROGRESS_SECONDS = 10.0


class Command(BaseCommand):
    help = (
        "Import seed tasks, test prompts or model outputs from a file, a folder or a zip into a project. "
        "Each file is read by the shape of its records. All or nothing: any problem in any file writes "
        "nothing and the problems are listed. Exits 1 on problems."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="A .json, .jsonl or .csv file, a folder of them, or a .zip")
        parser.add_argument("--project", required=True, help="The project's slug")
        parser.add_argument(
            "--create", action="store_true", help="Create the project (default forms) if it does not exist yet"
        )
        parser.add_argument("--format", choices=ImportFormat.values, default="", help="Default: read from the records")
        parser.add_argument(
            "--model",
            default="",
            help="The model that wrote the answers (default: the records' generator/model field, else the path)",
        )
        parser.add_argument(
            "--map", default="", dest="mapping", help="Column mapping, field=column: instruction=question,output=answer"
        )
        parser.add_argument("--strict", action="store_true", help="Refuse fields that would not be stored")
        parser.add_argument(
            "--allow-duplicate-answers",
            action="store_true",
            help="Import answers the project already holds word for word under another model's name",
        )
        parser.add_argument("--preview", action="store_true", help="Show how the files would be read; write nothing")

    def handle(self, *args, file: Path, project: str, format: str, model: str, create: bool, **options):
        target = self._project(project, create)
        if not file.exists():
            raise CommandError(f"No such file or folder: {file}")
        self._last_status = ""
        self._terminal = self.stderr.isatty()
        self._unlogged = ""  # the phase's latest count, not written yet (not on a terminal)
        self._logged_at = 0.0
        try:
            choices = import_options(
                mapping=options["mapping"],
                accept_unknown_fields=not options["strict"],
                allow_duplicate_answers=options["allow_duplicate_answers"],
            )
            job = import_file(
                project=target,
                path=file,
                format=format,
                model_name=model,
                options=choices,
                on_progress=self._progress,
                preview_only=options["preview"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(m for messages in exc.message_dict.values() for m in messages)) from exc
        if job.status == ImportStatus.PREVIEW:
            self._preview(job)
            return
        self._report(job)
        if job.status == ImportStatus.SUCCEEDED:
            self._after(job, target)
        if job.status not in (ImportStatus.SUCCEEDED, ImportStatus.DUPLICATE):
            raise CommandError(f"Import {job.pk} {job.get_status_display().lower()}; nothing was written.")

    def _after(self, job: ImportJob, target: Project) -> None:
        """What still happens to what was written, and how to do it here when no worker runs: nothing unscanned
        is released, and on PostgreSQL search finds the new tasks once their documents are built."""
        waiting = ["the PHI scan of its texts"]
        commands = [f"python manage.py phi_scan --project {target.slug}"]
        if seed_task_search_needs_job(job):
            waiting.append("the search documents of its tasks")
            commands.append(f"python manage.py search_index --project {target.slug}")
        self.stdout.write(
            f"  queued for the worker: {' and '.join(waiting)} (make run and make worker start one); "
            f"with no worker running: {'; '.join(commands)}"
        )

    def _project(self, slug: str, create: bool) -> Project:
        target = Project.objects.filter(slug=slug).first()
        if target is None and create:
            try:
                target = project_create(name=slug, slug=slug, created_by=None)
            except ValidationError as exc:
                raise CommandError(f"--create: {' '.join(exc.messages)}") from exc
            self.stdout.write(f"Created project {slug!r} with the default forms.")
        if target is None:
            raise CommandError(
                f"No project with slug {slug!r}. Create it first (python manage.py create_project {slug} "
                f'--name "..."), or add --create to make it here with the default forms.'
            )
        return target

    def _progress(self, job: ImportJob) -> None:
        line = ""
        if job.status == ImportStatus.VALIDATING:
            line = f"validated {counted(job.records_validated, 'record')}"
        elif job.status == ImportStatus.WRITING:
            line = f"written {job.records_written:,} of {counted(job.records_total, 'record')}"
        if self._terminal:
            self._progress_on_terminal(job.status, line)
        else:
            self._progress_logged(job.status, line)
        self._last_status = job.status
        self.stderr.flush()

    def _progress_on_terminal(self, status: str, line: str) -> None:
        """One line rewritten in place for each phase."""
        if status == ImportStatus.WRITING and self._last_status != ImportStatus.WRITING:
            self.stderr.write("")
        if line:
            self.stderr.write(f"\r{line}", ending="")

    def _progress_logged(self, status: str, line: str) -> None:
        """A line for a phase's first update, then at most one every LOG_PROGRESS_SECONDS, and its last count
        once the next phase (or the end) comes."""
        if status != self._last_status and self._unlogged:
            self.stderr.write(self._unlogged)
        self._unlogged = ""
        if not line:
            return
        if status != self._last_status or time.monotonic() - self._logged_at >= LOG_PROGRESS_SECONDS:
            self.stderr.write(line)
            self._logged_at = time.monotonic()
        else:
            self._unlogged = line

    def _preview(self, job: ImportJob) -> None:
        preview = job.report.get("preview", {})
        if preview.get("refused"):
            raise CommandError(preview["refused"])
        for entry in preview.get("files", []):
            model = f", model {entry['model']} (from {entry['model_from']})" if entry.get("model") else ""
            self.stdout.write(f"{entry['name']}: {entry['format'] or 'format unknown'}{model}")
            if entry.get("problem"):
                self.stdout.write(f"  cannot be read: {entry['problem']}")
            if entry.get("unknown_fields"):
                self.stdout.write(f"  fields that would not be stored: {', '.join(entry['unknown_fields'])}")
            for row in entry.get("records", []):
                self.stdout.write(f"  {row['line']}: prompt {row['prompt'][:70]!r}")
                if row["reference"]:
                    self.stdout.write(
                        f"      reference ({row['reference_model'] or 'output'}) {row['reference'][:60]!r}"
                    )
                if row["response"] or row["model"]:
                    self.stdout.write(f"      response ({row['model']}) {row['response'][:60]!r}")
        for left in preview.get("left_out", []):
            self.stdout.write(f"{left['name']}: left out ({left['reason']})")
        self.stdout.write("Nothing was written (--preview).")

    def _report(self, job: ImportJob) -> None:
        if self._terminal:
            self.stderr.write("")  # ends the progress line
        report = job.report
        # A single file refused before its format was known has none to show; only a batch is several files.
        reading = job.format or ("several files" if report.get("batch") else "")
        label = f"{job.file_name} ({reading})" if reading else job.file_name
        self.stdout.write(f"Import {job.pk}: {label}: {job.get_status_display()}")
        if job.status == ImportStatus.DUPLICATE:
            self.stdout.write(f"  This file was already imported into the project (import {report['duplicate_of']}).")
        self._files(report)
        for label, counts in (("created", report.get("created", {})), ("skipped", report.get("skipped", {}))):
            if counts:
                self.stdout.write(f"  {label}: " + ", ".join(kind_counted(kind, n) for kind, n in counts.items()))
        if report.get("models"):
            self.stdout.write(f"  models recorded: {', '.join(report['models'])}")
        if n := report.get("realigned_count"):
            whose = "record's id" if n == 1 else "records' ids"
            self.stdout.write(f"  {n:,} {whose} named another prompt; matched by their instruction text.")
        for kind, values in report.get("unmapped", {}).items():
            shown = ", ".join(f"{v['raw']} ({v['count']})" for v in values[:20])
            more = f" and {len(values) - 20} more" if len(values) > 20 else ""
            self.stdout.write(f"  unmapped {kind.replace('_', ' ')}: {shown}{more}")
        for unknown in report.get("unknown_fields", []) if job.status == ImportStatus.SUCCEEDED else []:
            self.stdout.write(
                f"  warning: {unknown['file']}: field {unknown['field']!r} in {counted(unknown['records'], 'record')} "
                f"(first at line {unknown['first_line']:,}) was not stored (--strict refuses such files)"
            )
        self._problems(job)
        if report.get("error"):
            self.stdout.write(f"  stopped: {report['error']}")
        if "seconds" in report:
            self.stdout.write(f"  took {report['seconds']} s")

    def _files(self, report: dict) -> None:
        files = report.get("files", [])
        if len(files) < 2 and not report.get("left_out"):
            if files and files[0].get("model"):
                self.stdout.write(f"  model: {files[0]['model']} (named by {files[0]['model_from']})")
            return
        self.stdout.write("  files:")
        for row in files:
            parts = [row["format"] or "format unknown"]
            if row.get("model"):
                parts.append(f"model {row['model']} (named by {row['model_from']})")
            parts += [kind_counted(kind, n) for kind, n in row.get("created", {}).items()]
            self.stdout.write(f"    {row['name']}: {', '.join(parts)}")
        for left in report.get("left_out", []):
            self.stdout.write(f"    {left['name']}: left out ({left['reason']})")

    def _problems(self, job: ImportJob) -> None:
        if not job.problem_count:
            return
        self.stdout.write(f"  {counted(job.problem_count, 'problem')}:")
        for group in job.report.get("problem_groups", []):
            self.stdout.write(f"    {group['text']}")
            if group.get("next_step"):
                self.stdout.write(f"      next: {group['next_step']}")
        if not job.report.get("problem_groups"):
            for problem in job.problems:
                field = f" [{problem['field']}]" if problem["field"] else ""
                self.stdout.write(f"    {where(problem)}{field}: {problem['reason']}")
