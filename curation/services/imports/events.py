"""The audit events of an import: one when it is queued (page, API or command line), one when it ends.

The end is recorded whatever ended it (written, refused for problems, recognised as a duplicate, stopped by
an error or by a worker that died), with the job's own counts, so the trail says what came in and from whom.
Both name the person who started the import: the end happens on a worker, which has no request to take one from.
"""

from audit.context import current_request
from audit.services import AuditAction, audit_record
from curation.models import ImportJob


def import_queued_record(*, job: ImportJob) -> None:
    """Call inside the transaction that queues the job. The actor is the request's (who confirmed a preview),
    else the job's creator (the command line)."""
    user = getattr(current_request(), "user", None)
    audit_record(
        action=AuditAction.IMPORT_QUEUED,
        target=job,
        actor=user if user is not None and user.is_authenticated else job.created_by,
        after={
            "file_name": job.file_name,
            "file_size": job.file_size,
            "file_hash": job.file_hash,
            "format": job.format,
            "model_name": job.model_name,
        },
    )


def import_finished_record(*, job: ImportJob) -> None:
    """Call inside the transaction that saves the job's final status."""
    report = job.report or {}
    after = {
        "status": job.status,
        "records_total": job.records_total,
        "records_written": job.records_written,
        "records_skipped": job.records_skipped,
        "problem_count": job.problem_count,
    }
    for key in ("created", "skipped", "duplicate_of", "error"):
        if key in report:
            after[key] = report[key]
    audit_record(action=AuditAction.IMPORT_FINISHED, target=job, actor=job.created_by, after=after)
