"""Reads for the admins' view of the system: people, and whether background jobs run."""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from accounts.models import Invitation, User
from curation.models import ImportJob, Release

logger = logging.getLogger(__name__)

# The dashboard waits at most this long for a worker to answer; a live worker answers in milliseconds.
PING_TIMEOUT_SECONDS = 0.5


@dataclass(frozen=True)
class WorkerStatus:
    """`embedded`: jobs run in the embedded worker beside the web server (no broker to ask), or inline.
    Otherwise `alive` says whether any worker answered a ping, `workers` how many, `error` why none could."""

    embedded: bool
    alive: bool | None = None
    workers: int = 0
    error: str = ""


def people_counts() -> dict[str, int]:
    """Active accounts and invitations still open (neither accepted, revoked nor expired): two counts."""
    return {
        "people": User.objects.filter(is_active=True).count(),
        "invitations_pending": Invitation.objects.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        ).count(),
    }


def worker_status(*, timeout: float = PING_TIMEOUT_SECONDS) -> WorkerStatus:
    """Whether a Celery worker answers on the configured broker. The folder queue of the embedded setup
    (and eager jobs) has no broker to ask: its worker is the one started beside the web server."""
    broker = settings.CELERY_BROKER_URL or ""
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False) or broker.startswith("filesystem://"):
        return WorkerStatus(embedded=True)
    from config.celery import app as celery_app  # Celery loads only where a job is queued or a worker asked

    try:
        replies = celery_app.control.ping(timeout=timeout) or []
    except Exception as exc:  # any broker failure means the same thing here: no worker can be reached
        logger.warning("worker ping failed: %s", exc)
        return WorkerStatus(embedded=False, alive=False, error=f"the broker did not answer ({type(exc).__name__})")
    return WorkerStatus(embedded=False, alive=bool(replies), workers=len(replies))


def last_job_finished() -> datetime | None:
    """When the latest import or release finished (None if none has). Two MAX aggregates over tables of
    one row per upload or release built, small whatever the number of tasks."""
    imports = ImportJob.objects.aggregate(at=Max("finished_at"))["at"]
    releases = Release.objects.aggregate(at=Max("finished_at"))["at"]
    return max((t for t in (imports, releases) if t is not None), default=None)
