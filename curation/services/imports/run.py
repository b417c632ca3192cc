"""One import job run through its two passes: validate every record of every file, then write them all or nothing.

A job reads one file, or every data file of a zip or folder (a batch). Pass 1 settles each file's
reading and model, validates each record and spools it; any problem in any file refuses the whole
batch. Pass 2 writes every file in one transaction with the job's final status, so a worker that
dies mid-import leaves nothing behind and the job can simply start again. On SQLite it commits batch
by batch instead, and what a failed job wrote is deleted (storage.writes_in_batches says why).
"""

import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from curation import formats
from curation.formats import PairRecord, Problem, Record, ResponseRecord
from curation.formats.base import RawRecord
from curation.models import ImportFormat, ImportJob, ImportStatus, Project
from curation.selectors.imports import import_jobs_writing, import_previous_success
from curation.services.database import imported_tables_analyze
from curation.services.imports import sources as batch
from curation.services.imports.events import import_finished_record
from curation.services.imports.matching import AnswerTwins, PromptIndex
from curation.services.imports.problems import ProblemLog, group_text
from curation.services.imports.reading import ANSWER_FORMATS, source_settle
from curation.services.imports.recovery import import_jobs_recover_stale
from curation.services.imports.sources import ImportSource
from curation.services.imports.storage import SideProgress, Spool, import_rows_discard, writes_in_batches
from curation.services.imports.writing import Writer
from curation.services.phi import phi_scan_after_import
from curation.services.seed_task_search import seed_task_search_after_import
from curation.text.hashing import content_hash

# Pass 1 saves its running count (and the heartbeat) every this many records, or this many seconds.
PROGRESS_EVERY = 1000
HEARTBEAT_SECONDS = 5.0
# How often an import that waits for another import of the project to finish writing looks again.
WAIT_SECONDS = 1.0
_FINISH_FIELDS = [
    "status",
    "format",
    "model_name",
    "problems",
    "problem_count",
    "report",
    "finished_at",
    "heartbeat_at",
    "records_total",
    "records_validated",
    "records_written",
    "records_skipped",
]

ProgressCallback = Callable[[ImportJob], None]


def job_sources(job: ImportJob, path: Path, workdir: Path) -> tuple[list[ImportSource], list[dict], bool]:
    """The files of the job: (sources, members left out, whether it is a batch). Raises BatchRefused."""
    mapping = dict(job.options.get("mapping") or {})
    if path.is_dir():
        sources, left_out = batch.sources_of_folder(path)
    elif batch.is_zip(path, job.file_name):
        sources, left_out = batch.sources_of_zip(path, workdir)
    else:
        # A file read from this machine's disk names its model by its whole path (`<model>/seed_0.json`);
        # a stored upload only by the name it was uploaded under.
        hint = job.file_name if job.file else str(path)
        return [ImportSource(path=path, name=job.file_name, mapping=mapping, path_hint=hint)], [], False
    for source in sources:
        source.mapping = dict(mapping)
    return sources, left_out, True


class ImportRun:
    """The run of one job. Precondition: the job was moved from queued to validating."""

    def __init__(self, job: ImportJob, path: Path, on_progress: ProgressCallback | None, workdir: Path):
        self.job = job
        self.path = path
        self.on_progress = on_progress
        self.workdir = workdir
        self.log = ProblemLog()
        self.started = time.monotonic()
        self.beat = 0.0
        self.batch = False
        self.sources: list[ImportSource] = []
        self.spools: list[Spool] = []
        # file -> field -> [records, the first record with it: its line (or number), unit and file line]
        self.unknown: dict[str, dict[str, list]] = {}

    # -- bookkeeping -------------------------------------------------------------------------

    def _problem(self, problem: Problem, source: ImportSource | None = None, records: int = 1) -> None:
        self.log.add(problem, source.name if source is not None and self.batch else "", records)

    def _progress(self, *, notify: bool = True, **counts: Any) -> None:
        for name, value in counts.items():
            setattr(self.job, name, value)
        self.job.heartbeat_at = timezone.now()
        self.beat = time.monotonic()
        self.job.save(update_fields=[*counts, "heartbeat_at"])
        if notify and self.on_progress:
            self.on_progress(self.job)

    def _finish(self, status: str, **report: Any) -> None:
        job = self.job
        job.status = status
        job.problems = self.log.kept
        job.problem_count = self.log.count
        groups = self.log.grouped()
        for group in groups:
            group["text"] = group_text(group)
        files = [self._file_row(source) for source in self.sources]
        job.report = {**job.report, **report, "files": files, "problem_groups": groups, "batch": self.batch}
        job.report["seconds"] = round(time.monotonic() - self.started, 2)
        if self.unknown:
            job.report["unknown_fields"] = self._unknown_rows()
        job.finished_at = job.heartbeat_at = timezone.now()
        with transaction.atomic():
            job.save(update_fields=_FINISH_FIELDS)
            import_finished_record(job=job)
        if self.on_progress:
            self.on_progress(job)

    def _file_row(self, source: ImportSource) -> dict[str, Any]:
        row = {"name": source.name, "format": source.format, "model": source.model_name}
        row["model_from"] = source.model_from
        return {**row, **source.report}

    def _unknown_rows(self) -> list[dict[str, Any]]:
        return [
            {"file": name, "field": field, "records": count, "first_line": first.file_line or first.line}
            for name, fields in self.unknown.items()
            for field, (count, first) in sorted(fields.items())
        ]

    # -- the steps ---------------------------------------------------------------------------

    def execute(self) -> None:
        try:
            self.sources, left_out, self.batch = job_sources(self.job, self.path, self.workdir)
        except batch.BatchRefused as exc:
            self._problem(Problem(None, "file", str(exc)))
            self._finish(ImportStatus.FAILED)
            return
        if left_out:
            self.job.report = {**self.job.report, "left_out": left_out}
        for source in self.sources:
            self._settle(source)
        if self.log.count:
            self._finish(ImportStatus.FAILED)
            return
        self._describe_job()
        previous = import_previous_success(job=self.job)
        if previous is not None:
            self._finish(ImportStatus.DUPLICATE, duplicate_of=previous.pk)
            return
        self._validate_all()
        if self.log.count:
            self._finish(ImportStatus.FAILED)
            return
        self._write()

    def _settle(self, source: ImportSource) -> None:
        problem, suggestion = source_settle(
            source,
            project_id=self.job.project_id,
            format="" if self.batch else self.job.format,
            model_name=self.job.model_name,
            batch=self.batch,
        )
        if suggestion:
            source.report["suggested_mapping"] = suggestion
        if problem is not None:
            self._problem(problem, source)

    def _describe_job(self) -> None:
        """The job's own format and model: its one file's, or for a batch the model all files share."""
        if not self.batch:
            self.job.format = self.sources[0].format
        models = {source.model_name for source in self.sources if source.format in ANSWER_FORMATS}
        if len(models) == 1 and not self.job.model_name:
            self.job.model_name = models.pop()
        self.job.save(update_fields=["format", "model_name"])

    def _validate_all(self) -> None:
        validated = 0
        for source in self.sources:
            spool = Spool().__enter__()
            self.spools.append(spool)
            validated = self._validate(source, spool, validated)
        self._progress(records_validated=validated, records_total=validated)
        self._unknown_problems()

    def _record_check(self, source: ImportSource, twins: AnswerTwins) -> Callable[[Record], list[Problem]]:
        """What a parsed record must also satisfy against the project, and the answers noted for twins."""
        if source.format == ImportFormat.MEDINSTRUCT_TEST:
            index = PromptIndex.of_project(self.job.project_id)
            return lambda record: index.prompt_problems(record, source.unit)
        if source.format == ImportFormat.MODEL_OUTPUTS:
            index = PromptIndex.of_project(self.job.project_id)

            def check_response(record: ResponseRecord) -> list[Problem]:
                found = index.response_problems(record, source.unit)
                if not found:
                    item_hash = index.by_id[index.prompt_for(record)][2]
                    twins.observe(model_name=source.model_name, item_hash=item_hash, text=record.text)
                return found

            return check_response
        if source.format in ANSWER_FORMATS:

            def check_pair(record: PairRecord) -> list[Problem]:
                model = source.model_name if source.model_from == "the import" or not record.model else record.model
                if not model:
                    return [Problem(record.line, "model", "no model names this answer: name it (--model)", source.unit)]
                item_hash = content_hash(record.instruction, record.input)
                twins.observe(model_name=model, item_hash=item_hash, text=record.response)
                return []

            return check_pair
        return lambda record: []

    def _validate(self, source: ImportSource, spool: Spool, validated: int) -> int:
        """Pass 1 for one file: every record parsed and checked; while none has a problem, each is spooled.

        A line (or array record) with several problems counts once among the records validated.
        """
        twins = AnswerTwins(self.job.project_id)
        check = self._record_check(source, twins)
        where: list[int | None] = [None]  # the file line of the raw record being parsed, for later checks
        unknown = self._unknown_counter(source, where)
        bad_lines: set[tuple[str, int | None]] = set()
        records = 0
        for item in formats.parse(source.path, source.format, source.mapping, on_raw=unknown):
            if isinstance(item, Problem):
                if (item.unit, item.line) not in bad_lines:
                    bad_lines.add((item.unit, item.line))
                    validated += 1
                self._problem(item, source)
            else:
                validated += 1
                records += 1
                for problem in check(item):
                    self._problem(replace(problem, file_line=where[0]) if source.unit != "line" else problem, source)
                if not self.log.count:
                    spool.write(item)
            if validated % PROGRESS_EVERY == 0 or time.monotonic() - self.beat > HEARTBEAT_SECONDS:
                self._progress(records_validated=validated)
        if not self.job.options.get("allow_duplicate_answers"):
            for problem in twins.problems(file_name=source.name):
                self._problem(problem, source)
        source.report["records"] = records
        return validated

    def _unknown_counter(self, source: ImportSource, where: list[int | None]) -> Callable[[RawRecord], None]:
        known = getattr(formats.FORMATS[source.format], "FIELDS", None)
        fields = self.unknown.setdefault(source.name, {})

        def count(raw: RawRecord) -> None:
            where[0] = raw.file_line
            if known is None or source.format == ImportFormat.CSV:
                return
            for key in raw.data.keys() - known:
                found = fields.get(key)
                if found is None:  # where it first is, without keeping the record
                    found = fields[key] = [0, RawRecord(raw.line, {}, raw.unit, raw.file_line)]
                found[0] += 1

        return count

    def _unknown_problems(self) -> None:
        """Fields no reading stores are a warning the person confirms; unconfirmed, they refuse the import."""
        self.unknown = {name: fields for name, fields in self.unknown.items() if fields}
        if not self.unknown or self.job.options.get("accept_unknown_fields"):
            return
        by_name = {source.name: source for source in self.sources}
        for name, fields in self.unknown.items():
            source = by_name[name]
            for field, (count, first) in sorted(fields.items()):
                # One problem standing for every record with the field, placed at the first; the next
                # step (problems.next_step) names how each interface confirms that it may be left out.
                reason = f"unknown field for the {source.format} format; it would not be stored"
                self._problem(first.problem(field, reason), source, records=count)

    def _write(self) -> None:
        """Pass 2: what pass 1 spooled (exactly what it validated, even if the files changed since),
        written in one transaction with the job's final status, or batch by batch on SQLite."""
        progress = SideProgress(self.job.pk)

        def on_written(count: int) -> None:
            progress.written(count)
            if self.on_progress:
                self.on_progress(self.job)

        try:
            if writes_in_batches():
                self._write_in_batches(on_written)
                return
            self._progress(status=ImportStatus.WRITING)
            with transaction.atomic():
                # One writer per project at a time: a concurrent import of the same file or records
                # waits here, then finds them present instead of writing them twice.
                Project.objects.select_for_update().filter(pk=self.job.project_id).first()
                if self._finished_as_duplicate():
                    return
                self._succeed(self._write_sources(on_written))
        finally:
            progress.close()
            for spool in self.spools:
                spool.__exit__(None, None, None)

    def _write_in_batches(self, on_written: Callable[[int], None]) -> None:
        """Pass 2 where each batch commits on its own: the job's rows are deleted again if it fails."""
        if not self._claim():
            return
        try:
            self._succeed(self._write_sources(on_written))
        except BaseException:
            import_rows_discard(job_id=self.job.pk)
            raise

    def _finished_as_duplicate(self) -> bool:
        """Finish the job as a duplicate when the same file was imported meanwhile (checked under the
        writer's lock, so that two imports of it never both write)."""
        previous = import_previous_success(job=self.job)
        if previous is None:
            return False
        self.job.records_written = 0
        self._finish(ImportStatus.DUPLICATE, duplicate_of=previous.pk)
        return True

    def _succeed(self, report: dict[str, Any]) -> None:
        """Finish the job as written; once that commits the planner learns the tables' new size and the
        texts it wrote are queued for their PHI scan and their search documents."""
        self._finish(ImportStatus.SUCCEEDED, format=self.job.format, **report)
        transaction.on_commit(partial(imported_tables_analyze, created=report.get("created", {})))
        transaction.on_commit(partial(phi_scan_after_import, import_job_id=self.job.pk))
        # The tasks' search documents are built by a job too: inside this transaction they cost more than the tasks.
        transaction.on_commit(partial(seed_task_search_after_import, import_job_id=self.job.pk))

    def _claim(self) -> bool:
        """Become the project's one import writing, waiting while another writes: batches of two imports
        of the same records would otherwise both find them new. False when the same file was imported
        meanwhile (the job is then finished as a duplicate)."""
        while True:
            with transaction.atomic():  # on SQLite the write lock: no other job claims between the check and the claim
                if self._finished_as_duplicate():
                    return False
                claimed = not import_jobs_writing(project_id=self.job.project_id).exclude(pk=self.job.pk).exists()
                if claimed:
                    self._progress(notify=False, status=ImportStatus.WRITING)
            if claimed:
                # Told once the claim is committed: the page shows "writing" from then on, and a slow
                # listener (the command's output) does not hold SQLite's write lock.
                if self.on_progress:
                    self.on_progress(self.job)
                return True
            import_jobs_recover_stale()  # a writer whose worker died is recovered, its rows deleted
            self._progress()  # the waiting job's heartbeat
            time.sleep(WAIT_SECONDS)

    def _write_sources(self, on_written: Callable[[int], None]) -> dict[str, Any]:
        created: dict[str, int] = {}
        skipped: dict[str, int] = {}
        models: set[str] = set()
        realigned: dict[str, Any] = {}
        unmapped: dict[str, dict[str, int]] = {}
        matched: dict[str, int] = {}
        for source, spool in zip(self.sources, self.spools, strict=True):
            written_before = self.job.records_written
            report = Writer(self.job, source, spool.read(), on_written, written_before).write()
            source.report.update(created=report["created"], skipped=report["skipped"], models=report.get("models", []))
            for kind, n in report["created"].items():
                created[kind] = created.get(kind, 0) + n
            for kind, n in report["skipped"].items():
                skipped[kind] = skipped.get(kind, 0) + n
            models.update(report.get("models", []))
            for kind, n in report.get("matched", {}).items():
                matched[kind] = matched.get(kind, 0) + n
            realigned = realigned or {k: v for k, v in report.items() if k.startswith("realigned")}
            for kind, values in report.get("unmapped", {}).items():
                for value in values:
                    counts = unmapped.setdefault(kind, {})
                    counts[value["raw"]] = counts.get(value["raw"], 0) + value["count"]
            self.job.records_written = written_before + sum(report["created"].values())
        self.job.records_written = sum(_records(source, "created") for source in self.sources)
        self.job.records_skipped = sum(_records(source, "skipped") for source in self.sources)
        report = {"created": created, "skipped": skipped, "models": sorted(models), **realigned}
        if matched:
            report["matched"] = matched
        if any(
            source.format not in ANSWER_FORMATS and source.format != ImportFormat.MEDINSTRUCT_TEST
            for source in self.sources
        ):
            report["unmapped"] = {
                kind: [{"raw": raw, "count": n} for raw, n in sorted(counts.items())]
                for kind, counts in unmapped.items()
            }
        return report


def _records(source: ImportSource, which: str) -> int:
    """A file's records written (or skipped): its tasks, its prompts for a test set, else its answers."""
    counts = source.report.get(which, {})
    if source.format == ImportFormat.MEDINSTRUCT_TEST:
        return counts.get("prompts", 0)
    if source.format in ANSWER_FORMATS:
        return counts.get("responses", 0)
    return counts.get("seed_tasks", 0)


def run_job(job: ImportJob, path: Path, on_progress: ProgressCallback | None) -> None:
    with tempfile.TemporaryDirectory(prefix="concord-import-") as workdir:
        ImportRun(job, path, on_progress, Path(workdir)).execute()
