"""Bringing files into a project: one service behind the upload page, the API and `import_items`.

An import runs in two passes over the streamed file. Pass 1 validates every record and counts
progress; if it finds any problem the job fails and nothing is written. Pass 2 writes everything in
one transaction, in batches. Records already in the project (same content hash) are skipped, and a
file that was already imported into the project (same SHA-256) is recognised and writes nothing.

Imported seed tasks arrive as source "imported", status "in review": they came from a curated file
and go straight to the reviewers' queue; a curator can still move any of them back to draft.

This module holds the services; the run of a job is in `run` (its steps), `matching` (the test
prompts a record names), `writing` (pass 2, one writer per kind of file) and `storage` (the spool
between the passes, fast inserts and the running count).
"""

import hashlib
import logging
from collections.abc import Iterable
from functools import partial
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from curation.formats.base import CHUNK
from curation.models import ImportFormat, ImportJob, ImportStatus, Project
from curation.services.imports.run import ImportRun, ProgressCallback
from curation.services.imports.storage import Spool
from curation.services.imports.writing import response_hash

logger = logging.getLogger(__name__)

FINISHED = (ImportStatus.SUCCEEDED, ImportStatus.FAILED, ImportStatus.DUPLICATE, ImportStatus.ERROR)

__all__ = [
    "FINISHED",
    "import_file",
    "import_job_create",
    "import_job_run",
    "import_max_bytes",
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
        with Spool() as spool:
            ImportRun(job, Path(path) if path is not None else Path(job.file.path), on_progress, spool).execute()
    except Exception as exc:
        logger.exception("Import job %s stopped", job.pk)
        job.refresh_from_db()
        job.status = ImportStatus.ERROR
        job.report = {**job.report, "error": f"{exc.__class__.__name__}: {exc}"}
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "report", "finished_at"])
    return job
