"""Import jobs whose worker died: found by their heartbeat, and started again or failed with the reason.

A running job saves a heartbeat as it works. One whose heartbeat is older than
CONCORD_IMPORT_STALE_SECONDS (a minute) was left by a process that stopped. Nothing it did stays:
pass 2 is one transaction, or on SQLite, where it commits batch by batch, the rows it wrote are
deleted here first (storage.import_rows_discard). So an uploaded file is simply queued again, from
the start; a file read from the importing machine's disk (the CLI's) cannot be fetched again, so
that job is marked failed, saying so. A job that keeps killing its workers is failed after a few
starts.

Checked without a scheduler: when a job is created or previewed, when the import pages or API are
read, and when a worker starts.
"""

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from curation.models import ImportJob, ImportStatus
from curation.selectors.imports import import_jobs_running
from curation.services.imports.events import import_finished_record
from curation.services.imports.storage import import_rows_discard

logger = logging.getLogger(__name__)

MAX_STARTS = 3


def stale_after() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "CONCORD_IMPORT_STALE_SECONDS", 60)))


def import_jobs_recover_stale() -> list[int]:
    """Requeue (or fail) every running job with no heartbeat for a minute; the ids of the jobs requeued."""
    now = timezone.now()
    requeued = []
    stale_ids = list(import_jobs_running(older_than=now - stale_after()).values_list("pk", flat=True))
    for job_id in stale_ids:
        with transaction.atomic():
            job = ImportJob.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
            # Another process may have recovered it, or its worker may have beaten since the query.
            if job is None or job.status not in (ImportStatus.VALIDATING, ImportStatus.WRITING):
                continue
            if (job.heartbeat_at or job.started_at or now) >= now - stale_after():
                continue
            if _recover(job, now):
                requeued.append(job.pk)
    return requeued


def _recover(job: ImportJob, now) -> bool:
    seen = (job.heartbeat_at or job.started_at or now).strftime("%Y-%m-%d %H:%M:%S %Z")
    kept = import_rows_discard(job_id=job.pk)["kept"] if job.status == ImportStatus.WRITING else 0
    outcome = f"{kept:,} rows it wrote were kept, as work had begun on them" if kept else "nothing was written"
    stopped = f"The worker importing this file stopped while {job.status} (last sign of work at {seen}); {outcome}."
    starts = int(job.report.get("starts", 1))
    history = [*job.report.get("recoveries", []), {"at": now.isoformat(), "while": job.status}]
    if job.file and starts < MAX_STARTS:
        job.status = ImportStatus.QUEUED
        job.report = {**job.report, "starts": starts + 1, "recoveries": history, "recovered": stopped}
        job.records_validated = job.records_written = 0
        job.save(update_fields=["status", "report", "records_validated", "records_written"])
        from curation.jobs import import_run_task  # curation.jobs imports the services: a cycle otherwise

        transaction.on_commit(partial(import_run_task.delay, job.pk))
        logger.warning("Import job %s: worker stopped; queued again from the start", job.pk)
        return True
    if job.file:
        reason = f"{stopped} It was started {starts} times and stopped each time; it is not tried again."
    else:
        reason = f"{stopped} The file was read from the importing machine's disk: run the import again."
    job.status = ImportStatus.ERROR
    job.finished_at = now
    job.report = {**job.report, "recoveries": history, "error": reason}
    job.save(update_fields=["status", "report", "finished_at"])
    import_finished_record(job=job)
    logger.warning("Import job %s: worker stopped; marked failed", job.pk)
    return False
