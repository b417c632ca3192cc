"""Bringing files into a project: one service behind the upload page, the API and `import_items`.

An import runs in two passes over the streamed file. Pass 1 validates every record and counts
progress; if it finds any problem the job fails and nothing is written. Pass 2 writes everything in
one transaction, in batches. Records already in the project (same content hash) are skipped, and a
file that was already imported into the project (same SHA-256) is recognised and writes nothing.

Imported seed tasks arrive as source "imported", status "in review": they came from a curated file
and go straight to the reviewers' queue; a curator can still move any of them back to draft.

An upload first waits as a preview (status "preview"): the files it holds, how each will be read
and its first records as they would be stored; the person confirms, and only then is it queued.

This module holds the services; the run of a job is in `run` (its steps), `sources` (the files of
a zip or folder), `reading` (each file's reading, model and preview), `matching` (the test prompts a
record names), `problems` (grouped for people), `writing` (pass 2), `storage` (the spool between the
passes, fast inserts and the running count) and `recovery` (jobs whose worker died).
"""

import hashlib
import logging
import tempfile
from collections.abc import Iterable
from functools import partial
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from curation.formats import mapping_parse
from curation.formats.base import CHUNK
from curation.models import ImportFormat, ImportJob, ImportStatus, Project
from curation.services.imports.events import import_finished_record, import_queued_record
from curation.services.imports.reading import source_preview, source_sample_unknown, source_settle
from curation.services.imports.recovery import import_jobs_recover_stale
from curation.services.imports.run import ProgressCallback, job_sources, run_job
from curation.services.imports.sources import BatchRefused
from curation.services.imports.writing import response_hash

logger = logging.getLogger(__name__)

FINISHED = (ImportStatus.SUCCEEDED, ImportStatus.FAILED, ImportStatus.DUPLICATE, ImportStatus.ERROR)

__all__ = [
    "FINISHED",
    "import_file",
    "import_job_confirm",
    "import_job_create",
    "import_job_preview",
    "import_job_reconsider",
    "import_job_run",
    "import_jobs_recover_stale",
    "import_max_bytes",
    "import_options",
    "import_size_problem",
    "response_hash",
    "upload_request_too_large",
]


def import_max_bytes() -> int:
    return int(settings.CONCORD_IMPORT_MAX_BYTES)


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


def import_options(
    *, mapping: str | dict = "", accept_unknown_fields: bool = False, allow_duplicate_answers: bool = False
) -> dict:
    """The choices a person makes about an import, checked: ValidationError names a bad mapping."""
    if isinstance(mapping, str):
        try:
            mapping = mapping_parse(mapping)
        except ValueError as exc:
            raise ValidationError({"mapping": f"Column mapping: {exc}."}) from None
    return {
        "mapping": dict(mapping),
        "accept_unknown_fields": bool(accept_unknown_fields),
        "allow_duplicate_answers": bool(allow_duplicate_answers),
    }


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
    *,
    project: Project,
    upload: UploadedFile,
    created_by: User | None,
    format: str = "",
    model_name: str = "",
    options: dict | None = None,
    confirm: bool = True,
) -> ImportJob:
    """Store an uploaded file as an import job: queued and run in the background once this commits, or
    with `confirm=False` kept as a preview for the person to confirm (`import_job_confirm`).

    Raises ValidationError (nothing stored) for a file over CONCORD_IMPORT_MAX_BYTES, an unknown format or
    an archived project.
    """
    project.check_open(doing="new imports")
    _check_request(size=upload.size or 0, format=format, model_name=model_name.strip())
    import_jobs_recover_stale()
    file_name = Path(upload.name or "upload").name
    job = ImportJob(
        project=project,
        created_by=created_by,
        file_name=file_name,
        file_size=upload.size or 0,
        file_hash=_sha256(upload.chunks()),
        format=format,
        model_name=model_name.strip(),
        options=options or import_options(),
        status=ImportStatus.QUEUED if confirm else ImportStatus.PREVIEW,
    )
    upload.seek(0)
    job.file.save(file_name, upload, save=False)
    job.save()
    if confirm:
        import_queued_record(job=job)
        _enqueue(job)
    else:
        import_job_preview(job=job)
    return job


def _enqueue(job: ImportJob) -> None:
    # curation.jobs imports this module to call the services: imported here to break that cycle.
    from curation.jobs import import_run_task

    transaction.on_commit(partial(import_run_task.delay, job.pk))


def import_job_preview(*, job: ImportJob, path: Path | None = None) -> ImportJob:
    """Read how each file of the job would be imported and its first records, writing nothing but the preview.

    The preview (report["preview"]) lists per file: the reading, the model and where its name came
    from, fields that would not be stored, a mapping to suggest, and the first records as stored.
    """
    import_jobs_recover_stale()
    job.report = {**job.report, "preview": preview_of(job=job, path=Path(path) if path else Path(job.file.path))}
    job.save(update_fields=["report"])
    return job


def _waiting(job: ImportJob) -> ImportJob:
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportStatus.PREVIEW:
        raise ValidationError({"status": f"This import is {job.get_status_display().lower()}, not waiting."})
    return job


def _choose(job: ImportJob, format: str | None, model_name: str | None, options: dict | None) -> None:
    if format is not None or model_name is not None:
        _check_request(size=0, format=format or "", model_name=(model_name or "").strip())
        job.format, job.model_name = format or "", (model_name or "").strip()
    if options is not None:
        job.options = options


@transaction.atomic
def import_job_reconsider(
    *, job: ImportJob, format: str | None = None, model_name: str | None = None, options: dict | None = None
) -> ImportJob:
    """Change how a waiting job's files are read (format, model, mapping) and preview them again."""
    job = _waiting(job)
    _choose(job, format, model_name, options)
    job.save(update_fields=["format", "model_name", "options"])
    return import_job_preview(job=job)


@transaction.atomic
def import_job_confirm(
    *, job: ImportJob, format: str | None = None, model_name: str | None = None, options: dict | None = None
) -> ImportJob:
    """The person has seen the preview: queue the job, with any choices changed on the way."""
    job.project.check_open(doing="new imports")
    job = _waiting(job)
    _choose(job, format, model_name, options)
    job.status = ImportStatus.QUEUED
    job.save(update_fields=["format", "model_name", "options", "status"])
    import_queued_record(job=job)
    _enqueue(job)
    return job


def preview_of(*, job: ImportJob, path: Path) -> dict:
    """How the job's files would be read: per file its reading, model, unknown fields and first records."""
    with tempfile.TemporaryDirectory(prefix="concord-preview-") as workdir:
        try:
            sources, left_out, is_batch = job_sources(job, path, Path(workdir))
        except BatchRefused as exc:
            return {"refused": str(exc), "files": []}
        files = []
        for source in sources:
            problem, suggestion = source_settle(
                source,
                project_id=job.project_id,
                format="" if is_batch else job.format,
                model_name=job.model_name,
                batch=is_batch,
            )
            entry = {"name": source.name, "format": source.format, "model": source.model_name}
            entry.update(model_from=source.model_from, suggested_mapping=suggestion, mapping=source.mapping)
            if problem is not None:
                entry["problem"] = str(problem)
            else:
                entry["unknown_fields"] = source_sample_unknown(source)
                entry["records"] = source_preview(source)
            files.append(entry)
    return {"files": files, "left_out": left_out, "batch": is_batch}


def import_file(
    *,
    project: Project,
    path: Path,
    created_by: User | None = None,
    format: str = "",
    model_name: str = "",
    options: dict | None = None,
    on_progress: ProgressCallback | None = None,
    preview_only: bool = False,
) -> ImportJob:
    """Import a file, zip or folder on this machine now (the CLI's path): no copy is stored, the job keeps
    the report. With `preview_only` the job stays a preview: nothing is read past the first records."""
    project.check_open(doing="new imports")
    path = Path(path)
    size = _folder_size(path) if path.is_dir() else path.stat().st_size
    _check_request(size=size, format=format, model_name=model_name.strip())
    import_jobs_recover_stale()
    job = ImportJob.objects.create(
        project=project,
        created_by=created_by,
        file_name=path.name,
        file_size=size,
        file_hash=_folder_hash(path) if path.is_dir() else _sha256(_path_chunks(path)),
        format=format,
        model_name=model_name.strip(),
        # On this machine the person runs the import knowingly: unknown fields are listed, not refused
        # (the CLI's --strict refuses them).
        options=options or import_options(accept_unknown_fields=True),
        status=ImportStatus.PREVIEW if preview_only else ImportStatus.QUEUED,
    )
    if preview_only:
        return import_job_preview(job=job, path=path)
    import_queued_record(job=job)
    return import_job_run(job_id=job.pk, path=path, on_progress=on_progress)


def _folder_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in _folder_files(folder))


def _folder_hash(folder: Path) -> str:
    """A folder's fingerprint: its files' relative paths and contents, so the same folder is recognised."""
    digest = hashlib.sha256()
    for path in _folder_files(folder):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(_sha256(_path_chunks(path)).encode())
    return digest.hexdigest()


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
        job.started_at = job.heartbeat_at = timezone.now()
        job.save(update_fields=["status", "started_at", "heartbeat_at"])
    try:
        run_job(job, Path(path) if path is not None else Path(job.file.path), on_progress)
    except Exception as exc:
        logger.exception("Import job %s stopped", job.pk)
        with transaction.atomic():
            job.refresh_from_db()
            job.status = ImportStatus.ERROR
            job.report = {**job.report, "error": f"{exc.__class__.__name__}: {exc}"}
            job.finished_at = timezone.now()
            job.save(update_fields=["status", "report", "finished_at"])
            import_finished_record(job=job)
    return job
