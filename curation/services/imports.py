"""Bringing files into a project: one service behind the upload page, the API and `import_items`.

An import runs in two passes over the streamed file. Pass 1 validates every record and counts
progress; if it finds any problem the job fails and nothing is written. Pass 2 writes everything in
one transaction, in batches. Records already in the project (same content hash) are skipped, and a
file that was already imported into the project (same SHA-256) is recognised and writes nothing.

Imported seed tasks arrive as source "imported", status "in review": they came from a curated file
and go straight to the reviewers' queue; a curator can still move any of them back to draft.
"""

import hashlib
import logging
import marshal
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.utils import timezone

from accounts.models import User
from curation import formats
from curation.formats import FormatUnknown, Problem, PromptRecord, Record, ResponseRecord, SeedTaskRecord
from curation.formats.base import CHUNK, head_problem, read_head
from curation.formats.model_outputs import model_from_file_name
from curation.models import (
    ImportFormat,
    ImportJob,
    ImportStatus,
    ModelResponse,
    Project,
    Prompt,
    SeedTask,
    TaskSource,
    TaskStatus,
    VocabularyKind,
)
from curation.services.vocabulary import vocabulary_index
from curation.text.hashing import content_hash
from curation.text.vocabulary import normalise_key

logger = logging.getLogger(__name__)

MAX_PROBLEMS_KEPT = 100
PROGRESS_EVERY = 1000
BATCH_SIZE = 2000
IMPORTED_STATUS = TaskStatus.IN_REVIEW
FINISHED = (ImportStatus.SUCCEEDED, ImportStatus.FAILED, ImportStatus.DUPLICATE, ImportStatus.ERROR)
_VOCABULARY_FIELDS = (
    (VocabularyKind.TOPIC, "topic", "topic"),
    (VocabularyKind.VIEW, "view", "view"),
    (VocabularyKind.TASK_TYPE, "task_type", "task_type"),
)

ProgressCallback = Callable[[ImportJob], None]


def import_max_bytes() -> int:
    return int(settings.CONCORD_IMPORT_MAX_BYTES)


def response_hash(*, model_name: str, item_hash: str, text: str) -> str:
    """The item is part of a response's identity: two prompts answered "I don't know" are two responses."""
    return content_hash(model_name, item_hash, text)


def import_size_problem(size: int) -> str | None:
    """The message for a file (or a whole upload request) over CONCORD_IMPORT_MAX_BYTES, else None."""
    limit = import_max_bytes()
    if size <= limit:
        return None
    return (
        f"The file is {size / 1e6:,.1f} MB; imports are limited to {limit / 1e6:,.0f} MB "
        "(setting CONCORD_IMPORT_MAX_BYTES). Split it into smaller files."
    )


# Multipart framing and the form's other fields: a request this much over the limit cannot fit under it.
UPLOAD_OVERHEAD_BYTES = 64 * 1024


def upload_request_too_large(content_length: str | None) -> str | None:
    """Refuse an oversized upload from its Content-Length, before its body is read and stored."""
    try:
        size = int(content_length or 0)
    except ValueError:
        return None
    return import_size_problem(size - UPLOAD_OVERHEAD_BYTES) if size > UPLOAD_OVERHEAD_BYTES else None


def _check_request(*, size: int, format: str, model_name: str) -> None:
    if message := import_size_problem(size):
        raise ValidationError({"file": message})
    if format and format not in ImportFormat.values:
        raise ValidationError({"format": f"Unknown format {format!r}; choose one of {', '.join(ImportFormat.values)}."})
    if len(model_name) > 200:
        raise ValidationError({"model_name": "The model name is longer than 200 characters."})


def _sha256(chunks: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def _path_chunks(path: Path) -> Iterable[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK * 16):
            yield chunk


@transaction.atomic
def import_job_create(
    *, project: Project, upload: UploadedFile, created_by: User | None, format: str = "", model_name: str = ""
) -> ImportJob:
    """Store an uploaded file as a queued import job and run it in the background once this commits.

    Raises ValidationError (nothing stored) for a file over CONCORD_IMPORT_MAX_BYTES or an unknown format.
    """
    _check_request(size=upload.size or 0, format=format, model_name=model_name.strip())
    file_name = Path(upload.name or "upload").name
    job = ImportJob(
        project=project,
        created_by=created_by,
        file_name=file_name,
        file_size=upload.size or 0,
        file_hash=_sha256(upload.chunks()),
        format=format,
        model_name=model_name.strip(),
    )
    upload.seek(0)
    job.file.save(file_name, upload, save=False)
    job.save()
    from curation.jobs import import_run_task

    transaction.on_commit(partial(import_run_task.delay, job.pk))
    return job


def import_file(
    *,
    project: Project,
    path: Path,
    created_by: User | None = None,
    format: str = "",
    model_name: str = "",
    on_progress: ProgressCallback | None = None,
) -> ImportJob:
    """Import a file on this machine now (the CLI's path): no copy is stored, the job keeps the report."""
    path = Path(path)
    _check_request(size=path.stat().st_size, format=format, model_name=model_name.strip())
    job = ImportJob.objects.create(
        project=project,
        created_by=created_by,
        file_name=path.name,
        file_size=path.stat().st_size,
        file_hash=_sha256(_path_chunks(path)),
        format=format,
        model_name=model_name.strip(),
    )
    return import_job_run(job_id=job.pk, path=path, on_progress=on_progress)


def import_job_run(*, job_id: int, path: Path | None = None, on_progress: ProgressCallback | None = None) -> ImportJob:
    """Run a queued job to its end. Idempotent: a job that is not queued any more is returned as it is.

    `path` is the file to read (default: the stored upload). Must not be called inside a transaction
    that someone else commits: progress is written as it happens so that pollers see it.
    """
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.status != ImportStatus.QUEUED:
            return job
        job.status = ImportStatus.VALIDATING
        job.started_at = timezone.now()
        job.save(update_fields=["status", "started_at"])
    try:
        with _Spool() as spool:
            _Run(job, Path(path) if path is not None else Path(job.file.path), on_progress, spool).execute()
    except Exception as exc:
        logger.exception("Import job %s stopped", job.pk)
        job.refresh_from_db()
        job.status = ImportStatus.ERROR
        job.report = {**job.report, "error": f"{exc.__class__.__name__}: {exc}"}
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "report", "finished_at"])
    return job


@dataclass
class _Plan:
    """What pass 1 learnt that pass 2 needs, kept small: ids and hashes, never the records' text."""

    prompts_by_id: dict[str, tuple[int, str, str]] = field(default_factory=dict)  # id -> pk, instruction, hash
    prompt_by_instruction: dict[str, str] = field(default_factory=dict)  # instruction -> id, when unique
    realigned: list[dict[str, Any]] = field(default_factory=list)
    realigned_count: int = 0


class _Run:
    def __init__(self, job: ImportJob, path: Path, on_progress: ProgressCallback | None, spool: "_Spool"):
        self.job = job
        self.spool = spool
        self.now = timezone.now()
        self.inserter = _Inserter()
        self.path = path
        self.on_progress = on_progress
        self.problems: list[dict[str, Any]] = []
        self.problem_count = 0
        self.plan = _Plan()
        self.started = time.monotonic()

    # -- bookkeeping -------------------------------------------------------------------------

    def _problem(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append(problem.as_dict())

    def _progress(self, **counts: int) -> None:
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
        job.save(
            update_fields=[
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
        )
        if self.on_progress:
            self.on_progress(job)

    def _previous_import(self) -> ImportJob | None:
        return (
            # The same model-output file under another model name is another model's answers, not a re-import.
            ImportJob.objects.filter(
                project_id=self.job.project_id,
                file_hash=self.job.file_hash,
                model_name=self.job.model_name,
                status=ImportStatus.SUCCEEDED,
            )
            .exclude(pk=self.job.pk)
            .order_by("finished_at")
            .first()
        )

    # -- the two passes ----------------------------------------------------------------------

    def execute(self) -> None:
        job = self.job
        head = read_head(self.path)
        problem = head_problem(head)
        if problem is None and not job.format:
            try:
                job.format = formats.detect_format(self.path, job.file_name)
            except FormatUnknown as exc:
                problem = exc.problem or Problem(1, "format", str(exc))
        if problem is None and job.format == ImportFormat.MODEL_OUTPUTS and not job.model_name:
            job.model_name = model_from_file_name(job.file_name)
            if not job.model_name:
                problem = Problem(None, "model", "name the model (--model) that wrote these outputs")
        if problem is not None:
            self._problem(problem)
            self._finish(ImportStatus.FAILED, format=job.format)
            return
        job.save(update_fields=["format", "model_name"])
        previous = self._previous_import()
        if previous is not None:
            self._finish(ImportStatus.DUPLICATE, duplicate_of=previous.pk)
            return
        # Problems found after parsing name the same place the parser would: a line, or a record in an array.
        self.unit = "record" if formats.base.first_char(self.path) == "[" and job.format != ImportFormat.CSV else "line"

        self._validate()
        if self.problem_count:
            self._finish(ImportStatus.FAILED, format=job.format)
            return
        self._progress(status=ImportStatus.WRITING)
        self._write()

    def _records(self):
        """Pass 2 reads back what pass 1 validated, so it writes exactly that (even if the file changed)."""
        return self.spool.read()

    def _validate(self) -> None:
        check = {
            ImportFormat.MEDINSTRUCT_TEST: self._check_prompt,
            ImportFormat.MODEL_OUTPUTS: self._check_response,
        }.get(self.job.format, lambda record: [])
        if self.job.format in (ImportFormat.MEDINSTRUCT_TEST, ImportFormat.MODEL_OUTPUTS):
            self._load_prompts()
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

    def _load_prompts(self) -> None:
        by_instruction: dict[str, list[str]] = defaultdict(list)
        for pk, external_id, instruction, hash_ in Prompt.objects.filter(project_id=self.job.project_id).values_list(
            "pk", "external_id", "instruction", "content_hash"
        ):
            if external_id:
                self.plan.prompts_by_id[external_id] = (pk, instruction.strip(), hash_)
                by_instruction[instruction.strip()].append(external_id)
        self.plan.prompt_by_instruction = {text: ids[0] for text, ids in by_instruction.items() if len(ids) == 1}

    def _check_prompt(self, record: PromptRecord) -> list[Problem]:
        existing = self.plan.prompts_by_id.get(record.external_id)
        if existing and existing[2] != content_hash(record.instruction, record.input):
            return [
                Problem(
                    record.line,
                    "id",
                    f"prompt {record.external_id!r} is already in the project with a different instruction",
                    self.unit,
                )
            ]
        return []

    def _check_response(self, record: ResponseRecord) -> list[Problem]:
        external_id = self._prompt_for(record)
        if external_id is not None:
            return []
        unit = self.unit
        if record.prompt_id not in self.plan.prompts_by_id:
            return [Problem(record.line, "id", f"no prompt with id {record.prompt_id!r} in this project", unit)]
        return [
            Problem(
                record.line,
                "instruction",
                f"does not match the instruction of prompt {record.prompt_id!r}, nor any other prompt's",
                unit,
            )
        ]

    def _prompt_for(self, record: ResponseRecord) -> str | None:
        """The prompt a model output answers: its id, checked by the instruction text.

        When the id names a prompt with another instruction but exactly one prompt has this record's
        instruction, the text wins and the realignment is reported (the published AlpaCare model
        outputs number the test prompts by position, so from id 143 on they are one behind).
        """
        instruction = record.instruction.strip()
        by_id = self.plan.prompts_by_id.get(record.prompt_id)
        if by_id is not None and by_id[1] == instruction:
            return record.prompt_id
        matched = self.plan.prompt_by_instruction.get(instruction)
        if matched is not None:
            self.plan.realigned_count += 1
            if len(self.plan.realigned) < MAX_PROBLEMS_KEPT:
                self.plan.realigned.append({"line": record.line, "id": record.prompt_id, "prompt": matched})
        return matched

    # -- pass 2 ------------------------------------------------------------------------------

    def _write(self) -> None:
        writer = {
            ImportFormat.MEDINSTRUCT_TEST: self._write_prompts,
            ImportFormat.MODEL_OUTPUTS: self._write_responses,
        }.get(self.job.format, self._write_seed_tasks)
        progress = _SideProgress(self.job.pk)
        try:
            with transaction.atomic():
                # One writer per project at a time: a concurrent import of the same file or records
                # waits here, then finds them present instead of writing them twice.
                Project.objects.select_for_update().filter(pk=self.job.project_id).first()
                previous = self._previous_import()
                if previous is not None:
                    self.job.records_written = 0
                    self._finish(ImportStatus.DUPLICATE, duplicate_of=previous.pk)
                    return
                self.plan.realigned, self.plan.realigned_count = [], 0
                report = writer(progress)
                if self.plan.realigned_count:
                    report["realigned"] = self.plan.realigned
                    report["realigned_count"] = self.plan.realigned_count
                self._finish(ImportStatus.SUCCEEDED, format=self.job.format, **report)
        finally:
            progress.close()

    def _origin(self, line: int) -> dict[str, Any]:
        return {"origin_file": self.job.file_name[:500], "origin_line": line, "import_job_id": self.job.pk}

    def _flush(self, model, rows: list[dict[str, Any]], progress: "_SideProgress", records: int) -> None:
        """Insert rows (dicts of column attnames); seed tasks get their "created" history row too."""
        if rows:
            self.inserter.insert(model, rows)
        self.job.records_written = records
        progress.written(records)
        if self.on_progress:
            self.on_progress(self.job)

    def _write_seed_tasks(self, progress: "_SideProgress") -> dict[str, Any]:
        project_id = self.job.project_id
        seen = set(SeedTask.objects.filter(project_id=project_id).values_list("content_hash", flat=True))
        terms: dict[tuple[str, str], int | None] = {}
        vocabulary = vocabulary_index()
        unmapped: dict[str, Counter] = {kind: Counter() for kind, _, _ in _VOCABULARY_FIELDS}
        batch: list[dict[str, Any]] = []
        written = skipped = 0
        now = timezone.now()
        common = {
            "project_id": project_id,
            "source": TaskSource.IMPORTED,
            "status": IMPORTED_STATUS,
            "created_by_id": self.job.created_by_id,
            "created_at": now,
            "updated_at": now,
            "version": 1,
            "origin_file": self.job.file_name[:500],
            "import_job_id": self.job.pk,
        }
        for record in self._records():
            assert isinstance(record, SeedTaskRecord)
            digest = content_hash(record.instruction, record.input, record.reference_output)
            if digest in seen:
                skipped += 1
                continue
            seen.add(digest)
            row = {
                **common,
                "instruction": record.instruction,
                "input": record.input,
                "reference_output": record.reference_output,
                "topic_raw": record.topic,
                "view_raw": record.view,
                "task_type_raw": record.task_type,
                "difficulty": record.difficulty,
                "external_id": record.external_id,
                "content_hash": digest,
                "origin_line": record.line,
            }
            for kind, attribute, term_field in _VOCABULARY_FIELDS:
                raw = getattr(record, attribute)
                term_id = None
                if raw:
                    if (kind, raw) not in terms:
                        terms[kind, raw] = vocabulary.get((kind, normalise_key(raw)))
                    term_id = terms[kind, raw]
                    if term_id is None:
                        unmapped[kind][raw] += 1
                row[f"{term_field}_id"] = term_id
            batch.append(row)
            written += 1
            if len(batch) >= BATCH_SIZE:
                self._flush(SeedTask, batch, progress, written)
                batch = []
        self._flush(SeedTask, batch, progress, written)
        if written:
            reason = f"imported from {self.job.file_name}"[:100]
            self.inserter.history_for_import(SeedTask, job=self.job, reason=reason)
        self.job.records_written, self.job.records_skipped = written, skipped
        return {
            "created": {"seed_tasks": written},
            "skipped": {"seed_tasks": skipped},
            "unmapped": {
                kind: [{"raw": raw, "count": count} for raw, count in sorted(counter.items())]
                for kind, counter in unmapped.items()
                if counter
            },
        }

    def _existing_response_hashes(self) -> set[str]:
        return set(
            ModelResponse.objects.filter(prompt__project_id=self.job.project_id).values_list("content_hash", flat=True)
        )

    def _response_row(self, *, prompt_id: int, model_name: str, item_hash: str, text: str, raw_output: str, line: int):
        return {
            "prompt_id": prompt_id,
            "model_name": model_name,
            "text": text,
            "raw_output": raw_output,
            "content_hash": response_hash(model_name=model_name, item_hash=item_hash, text=text),
            "created_at": self.now,
            **self._origin(line),
        }

    def _write_prompts(self, progress: "_SideProgress") -> dict[str, Any]:
        self._load_prompts()
        response_hashes = self._existing_response_hashes()
        prompts: list[dict[str, Any]] = []
        answers: list[tuple[dict[str, Any] | int, str, str, str, int]] = []  # prompt, model, text, hash, line
        created_prompts = created_responses = skipped_prompts = skipped_responses = written = 0
        models: set[str] = set()

        def flush() -> None:
            nonlocal answers, prompts, created_responses
            self._flush(Prompt, prompts, progress, written)
            responses = [
                self._response_row(
                    prompt_id=prompt if isinstance(prompt, int) else prompt["id"],
                    model_name=model_name,
                    item_hash=item_hash,
                    text=text,
                    raw_output="",
                    line=line,
                )
                for prompt, model_name, text, item_hash, line in answers
            ]
            created_responses += len(responses)
            self._flush(ModelResponse, responses, progress, written)
            prompts, answers = [], []

        for record in self._records():
            assert isinstance(record, PromptRecord)
            written += 1
            digest = content_hash(record.instruction, record.input)
            existing = self.plan.prompts_by_id.get(record.external_id)
            if existing is not None:
                skipped_prompts += 1
                owner: dict[str, Any] | int = existing[0]
            else:
                owner = {
                    "project_id": self.job.project_id,
                    "external_id": record.external_id,
                    "instruction": record.instruction,
                    "input": record.input,
                    "difficulty": record.difficulty,
                    "content_hash": digest,
                    "created_at": self.now,
                    **self._origin(record.line),
                }
                prompts.append(owner)
                created_prompts += 1
            for model_name, text in record.references:
                models.add(model_name)
                answer_hash = response_hash(model_name=model_name, item_hash=digest, text=text)
                if answer_hash in response_hashes:
                    skipped_responses += 1
                    continue
                response_hashes.add(answer_hash)
                answers.append((owner, model_name, text, digest, record.line))
            if len(prompts) >= BATCH_SIZE:
                flush()
        flush()
        self.job.records_written = created_prompts
        self.job.records_skipped = skipped_prompts
        return {
            "created": {"prompts": created_prompts, "responses": created_responses},
            "skipped": {"prompts": skipped_prompts, "responses": skipped_responses},
            "models": sorted(models),
        }

    def _write_responses(self, progress: "_SideProgress") -> dict[str, Any]:
        self._load_prompts()
        response_hashes = self._existing_response_hashes()
        model_name = self.job.model_name
        batch: list[dict[str, Any]] = []
        written = skipped = 0
        for record in self._records():
            assert isinstance(record, ResponseRecord)
            prompt_pk, _, item_hash = self.plan.prompts_by_id[self._prompt_for(record)]
            row = self._response_row(
                prompt_id=prompt_pk,
                model_name=model_name,
                item_hash=item_hash,
                text=record.text,
                raw_output=record.raw_output,
                line=record.line,
            )
            if row["content_hash"] in response_hashes:
                skipped += 1
                continue
            response_hashes.add(row["content_hash"])
            batch.append(row)
            written += 1
            if len(batch) >= BATCH_SIZE:
                self._flush(ModelResponse, batch, progress, written)
                batch = []
        self._flush(ModelResponse, batch, progress, written)
        self.job.records_written, self.job.records_skipped = written, skipped
        return {"created": {"responses": written}, "skipped": {"responses": skipped}}


class _Spool:
    """Validated records kept on disk between the passes (marshal: fast, and never the whole file in memory)."""

    def __enter__(self) -> "_Spool":
        self.file = tempfile.TemporaryFile()
        self.kinds: dict[type, int] = {}
        self.types: list[type] = []
        return self

    def __exit__(self, *exc_info) -> None:
        self.file.close()

    def write(self, record: Record) -> None:
        kind = self.kinds.get(type(record))
        if kind is None:
            kind = self.kinds[type(record)] = len(self.types)
            self.types.append(type(record))
        marshal.dump((kind, *record.__dict__.values()), self.file)

    def read(self) -> Iterator[Record]:
        self.file.seek(0)
        types, load, file = self.types, marshal.load, self.file
        while True:
            try:
                kind, *values = load(file)
            except EOFError:
                return
            yield types[kind](*values)


class _Inserter:
    """Inserts rows given as {attname: value}, filling every other column with its field default.

    On PostgreSQL rows go in through COPY, ids drawn from the table's sequence beforehand: the ORM's
    bulk_create spends most of a large import preparing values one by one. Elsewhere bulk_create.
    Rows that need their id afterwards (prompts, whose responses follow) get it as row["id"].
    """

    def __init__(self):
        self.postgres = connection.vendor == "postgresql"

    def insert(self, model, rows: list[dict[str, Any]]) -> None:
        if not self.postgres:
            objs = model.objects.bulk_create([model(**row) for row in rows], batch_size=BATCH_SIZE)
            for row, obj in zip(rows, objs, strict=True):
                row["id"] = obj.pk
            return
        if model is Prompt or model is SeedTask:
            self._assign_ids(model, rows)
        self._copy(model, rows)

    def history_for_import(self, model, *, job: ImportJob, reason: str) -> None:
        """The "created" history row of every task the job wrote, copied inside the database in one statement."""
        history = model.history.model
        quote = connection.ops.quote_name
        own = {"history_date": "%s", "history_change_reason": "%s", "history_type": "%s", "history_user_id": "%s"}
        fields = [f for f in history._meta.concrete_fields if not f.primary_key]
        targets = ", ".join(quote(f.column) for f in fields)
        sources = ", ".join(own.get(f.attname, quote(f.column)) for f in fields)
        params = {
            "history_date": timezone.now(),
            "history_change_reason": reason,
            "history_type": "+",
            "history_user_id": job.created_by_id,
        }
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(history._meta.db_table)} ({targets}) "
                f"SELECT {sources} FROM {quote(model._meta.db_table)} WHERE import_job_id = %s",
                [*(params[f.attname] for f in fields if f.attname in own), job.pk],
            )

    def _assign_ids(self, model, rows: list[dict[str, Any]]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [model._meta.db_table, len(rows)],
            )
            for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
                row["id"] = pk

    def _copy(self, model, rows: list[dict[str, Any]]) -> None:
        first = rows[0]
        fields = [f for f in model._meta.concrete_fields if f.attname in first or not f.primary_key]
        defaults = {f.attname: f.get_default() for f in fields if f.attname not in first}
        json_fields = {f.attname for f in fields if f.get_internal_type() == "JSONField"}
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        names = [f.attname for f in fields]
        statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for row in rows:
                values = [row[name] if name in row else defaults[name] for name in names]
                if json_fields:
                    from psycopg.types.json import Jsonb

                    values = [
                        Jsonb(value) if name in json_fields else value
                        for name, value in zip(names, values, strict=True)
                    ]
                copy.write_row(values)


class _SideProgress:
    """Writes records_written from a second database connection while pass 2's transaction is open.

    The records and the job's final status commit together; the running count must not wait for
    that commit, or a poller would see nothing move until the end. SQLite allows one writer at a
    time, so there the count appears only when the import finishes.
    """

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.connection = None
        if connection.vendor == "postgresql":
            self.connection = connections.create_connection(DEFAULT_DB_ALIAS)

    def written(self, count: int) -> None:
        if self.connection is None:
            return
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '2s'")
                cursor.execute(
                    f"UPDATE {ImportJob._meta.db_table} SET records_written = %s WHERE id = %s",
                    [count, self.job_id],
                )
        except DatabaseError:
            logger.warning("Import job %s: progress not recorded", self.job_id, exc_info=True)
            self.close()

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
