"""One import job run through its two passes: validate every record, then write them all or nothing."""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from curation import formats
from curation.formats import FormatUnknown, Problem, Record
from curation.formats.base import head_problem, read_head
from curation.formats.model_outputs import model_from_file_name
from curation.models import ImportFormat, ImportJob, ImportStatus, Project
from curation.selectors.imports import import_previous_success
from curation.services.imports.matching import MAX_PROBLEMS_KEPT, PromptIndex
from curation.services.imports.storage import SideProgress, Spool
from curation.services.imports.writing import Writer

# Pass 1 saves its running count every this many records.
PROGRESS_EVERY = 1000
_FINISH_FIELDS = [
    "status",
    "format",
    "model_name",
    "problems",
    "problem_count",
    "report",
    "finished_at",
    "records_total",
    "records_validated",
    "records_written",
    "records_skipped",
]

ProgressCallback = Callable[[ImportJob], None]


class ImportRun:
    """The run of one job on one file. Precondition: the job was moved from queued to validating."""

    def __init__(self, job: ImportJob, path: Path, on_progress: ProgressCallback | None, spool: Spool):
        self.job = job
        self.path = path
        self.on_progress = on_progress
        self.spool = spool
        self.problems: list[dict[str, Any]] = []
        self.problem_count = 0
        self.started = time.monotonic()
        # Problems found after parsing name the same place the parser would: a line, or a record in an array.
        self.unit = "line"

    # -- bookkeeping -------------------------------------------------------------------------

    def _problem(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append(problem.as_dict())

    def _progress(self, **counts: Any) -> None:
        for name, value in counts.items():
            setattr(self.job, name, value)
        self.job.save(update_fields=list(counts))
        if self.on_progress:
            self.on_progress(self.job)

    def _finish(self, status: str, **report: Any) -> None:
        job = self.job
        job.status = status
        job.problems = self.problems
        job.problem_count = self.problem_count
        job.report = {**job.report, **report, "seconds": round(time.monotonic() - self.started, 2)}
        job.finished_at = timezone.now()
        job.save(update_fields=_FINISH_FIELDS)
        if self.on_progress:
            self.on_progress(job)

    # -- the steps ---------------------------------------------------------------------------

    def execute(self) -> None:
        problem = self._settle_format()
        if problem is not None:
            self._problem(problem)
            self._finish(ImportStatus.FAILED, format=self.job.format)
            return
        self.job.save(update_fields=["format", "model_name"])
        previous = import_previous_success(job=self.job)
        if previous is not None:
            self._finish(ImportStatus.DUPLICATE, duplicate_of=previous.pk)
            return
        if formats.streams.first_char(self.path) == "[" and self.job.format != ImportFormat.CSV:
            self.unit = "record"
        self._validate()
        if self.problem_count:
            self._finish(ImportStatus.FAILED, format=self.job.format)
            return
        self._progress(status=ImportStatus.WRITING)
        self._write()

    def _settle_format(self) -> Problem | None:
        """The file's format (detected unless chosen) and, for model outputs, the model; or why not."""
        job = self.job
        problem = head_problem(read_head(self.path))
        if problem is None and not job.format:
            try:
                job.format = formats.detect_format(self.path, job.file_name)
            except FormatUnknown as exc:
                problem = exc.problem or Problem(1, "format", str(exc))
        if problem is None and job.format == ImportFormat.MODEL_OUTPUTS and not job.model_name:
            job.model_name = model_from_file_name(job.file_name)
            if not job.model_name:
                problem = Problem(None, "model", "name the model (--model) that wrote these outputs")
        return problem

    def _record_check(self) -> Callable[[Record], list[Problem]]:
        """What a parsed record must also satisfy against the project: test prompts and model outputs
        must agree with the prompts already there."""
        if self.job.format == ImportFormat.MEDINSTRUCT_TEST:
            index = PromptIndex.of_project(self.job.project_id)
            return lambda record: index.prompt_problems(record, self.unit)
        if self.job.format == ImportFormat.MODEL_OUTPUTS:
            index = PromptIndex.of_project(self.job.project_id)
            return lambda record: index.response_problems(record, self.unit)
        return lambda record: []

    def _validate(self) -> None:
        """Pass 1: every record parsed and checked; while none has a problem, each is spooled for pass 2.

        A line (or array record) with several problems counts once among the records validated.
        """
        check = self._record_check()
        validated, reported, bad_lines = 0, 0, set()
        for item in formats.parse(self.path, self.job.format):
            if isinstance(item, Problem):
                if (item.unit, item.line) not in bad_lines:
                    bad_lines.add((item.unit, item.line))
                    validated += 1
                self._problem(item)
            else:
                validated += 1
                for problem in check(item):
                    self._problem(problem)
                if not self.problem_count:
                    self.spool.write(item)
            if validated % PROGRESS_EVERY == 0 and validated != reported:
                reported = validated
                self._progress(records_validated=validated)
        self._progress(records_validated=validated, records_total=validated)

    def _write(self) -> None:
        """Pass 2: what pass 1 spooled (exactly what it validated, even if the file changed since),
        written in one transaction with the job's final status."""
        progress = SideProgress(self.job.pk)

        def on_written(count: int) -> None:
            progress.written(count)
            if self.on_progress:
                self.on_progress(self.job)

        try:
            with transaction.atomic():
                # One writer per project at a time: a concurrent import of the same file or records
                # waits here, then finds them present instead of writing them twice.
                Project.objects.select_for_update().filter(pk=self.job.project_id).first()
                previous = import_previous_success(job=self.job)
                if previous is not None:
                    self.job.records_written = 0
                    self._finish(ImportStatus.DUPLICATE, duplicate_of=previous.pk)
                    return
                report = Writer(self.job, self.spool.read(), on_written).write()
                self._finish(ImportStatus.SUCCEEDED, format=self.job.format, **report)
        finally:
            progress.close()
