from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from curation.models import ImportFormat, ImportJob, ImportStatus, Project
from curation.services.imports import import_file
from curation.services.projects import project_create


class Command(BaseCommand):
    help = (
        "Import seed tasks, test prompts or model outputs from a file into a project. All or nothing: "
        "a file with any problem writes nothing and the problems are listed. Exits 1 on problems."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--project", required=True, help="The project's slug")
        parser.add_argument(
            "--create", action="store_true", help="Create the project (default forms) if it does not exist yet"
        )
        parser.add_argument("--format", choices=ImportFormat.values, default="", help="Default: detect from the file")
        parser.add_argument("--model", default="", help="For model outputs: the model (default: the file name)")

    def handle(self, *args, file: Path, project: str, format: str, model: str, create: bool, **options):
        target = Project.objects.filter(slug=project).first()
        if target is None and create:
            try:
                target = project_create(name=project, slug=project, created_by=None)
            except ValidationError as exc:
                raise CommandError(f"--create: {' '.join(exc.messages)}") from exc
            self.stdout.write(f"Created project {project!r} with the default forms.")
        if target is None:
            raise CommandError(
                f"No project with slug {project!r}. Create it first (python manage.py create_project {project} "
                f'--name "..."), or add --create to make it here with the default forms.'
            )
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        self._last_status = ""
        try:
            job = import_file(project=target, path=file, format=format, model_name=model, on_progress=self._progress)
        except ValidationError as exc:
            raise CommandError(" ".join(m for messages in exc.message_dict.values() for m in messages)) from exc
        self._report(job)
        if job.status not in (ImportStatus.SUCCEEDED, ImportStatus.DUPLICATE):
            raise CommandError(f"Import {job.pk} {job.get_status_display().lower()}; nothing was written.")

    def _progress(self, job: ImportJob) -> None:
        if job.status == ImportStatus.VALIDATING:
            self.stderr.write(f"\rvalidated {job.records_validated:,} records", ending="")
        elif job.status == ImportStatus.WRITING:
            if self._last_status != ImportStatus.WRITING:
                self.stderr.write("")
            self.stderr.write(f"\rwritten {job.records_written:,} of {job.records_total:,} records", ending="")
        self._last_status = job.status
        self.stderr.flush()

    def _report(self, job: ImportJob) -> None:
        self.stderr.write("")
        report = job.report
        self.stdout.write(
            f"Import {job.pk}: {job.file_name} ({job.format or 'format unknown'}): {job.get_status_display()}"
        )
        if job.status == ImportStatus.DUPLICATE:
            self.stdout.write(f"  This file was already imported into the project (import {report['duplicate_of']}).")
        for label, counts in (("created", report.get("created", {})), ("skipped", report.get("skipped", {}))):
            if counts:
                self.stdout.write(
                    f"  {label}: " + ", ".join(f"{n:,} {kind.replace('_', ' ')}" for kind, n in counts.items())
                )
        if report.get("realigned_count"):
            self.stdout.write(
                f"  {report['realigned_count']} records' ids named another prompt; matched by their instruction text."
            )
        for kind, values in report.get("unmapped", {}).items():
            shown = ", ".join(f"{v['raw']} ({v['count']})" for v in values[:20])
            more = f" and {len(values) - 20} more" if len(values) > 20 else ""
            self.stdout.write(f"  unmapped {kind.replace('_', ' ')}: {shown}{more}")
        if job.problem_count:
            self.stdout.write(f"  {job.problem_count:,} problem(s):")
            for problem in job.problems:
                where = f"{problem['unit']} {problem['line']}" if problem["line"] is not None else "file"
                field = f" [{problem['field']}]" if problem["field"] else ""
                self.stdout.write(f"    {where}{field}: {problem['reason']}")
            if job.problem_count > len(job.problems):
                self.stdout.write(f"    ... and {job.problem_count - len(job.problems):,} more")
        if report.get("error"):
            self.stdout.write(f"  stopped: {report['error']}")
        if "seconds" in report:
            self.stdout.write(f"  took {report['seconds']} s")
