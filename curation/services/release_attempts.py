"""Release build attempts: the lease that says which attempt may build a release, and what happens
when the worker holding it dies.

Claiming a release starts a new attempt: `Release.attempts` goes up by one and that number is the
attempt's own. The attempt then holds a lease (`leased_until`, LEASE_SECONDS ahead) that it renews
with every progress report. Every write an attempt makes after its claim (progress, the lease,
success, failure) is conditional on its number and on the release still running, so an attempt
that lost the release (its lease expired and a later attempt took over) finds out at its next write
and stops, leaving its files to nobody. A release is taken over only once its lease has expired,
whoever asks: a redelivered task, a retry, or the recovery below.

Each attempt writes into its own hidden directory, `.build-<release>-<attempt>` under the releases
folder; only the attempt that holds the lease renames its directory into place, holding the row's
lock while it does (`release_lease_final`), so no takeover can start meanwhile.

A worker killed mid-build leaves its release running with a lease that runs out within a minute.
`releases_recover_stale` then queues it again (or, after MAX_STARTS starts in a row, fails it saying
why). It is checked without a scheduler: when a build is enqueued, when the releases page or API is
read, and when a worker starts.
"""

import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from curation.models import Release, ReleaseStatus

logger = logging.getLogger(__name__)

RELEASES_DIR = "releases"
# Starts in a row (the first and the automatic restarts after a worker died) before a release is failed.
MAX_STARTS = 3


class ReleaseSuperseded(Exception):
    """The attempt no longer holds its release: its lease expired and a later attempt took it over."""


def lease_length() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "CONCORD_RELEASE_LEASE_SECONDS", 60)))


def releases_root() -> Path:
    return Path(settings.MEDIA_ROOT) / RELEASES_DIR


def release_directory(release: Release) -> Path:
    return releases_root() / f"release-{release.pk}"


def attempt_directory(release_id: int, attempt: int) -> Path:
    return releases_root() / f".build-{release_id}-{attempt}"


def attempt_directories_remove(release_id: int) -> None:
    """Remove what attempts at building the release left behind.

    Precondition: the release is finished (or its row is locked by the attempt finishing it), so every
    attempt still writing has lost the release and stops at its next write.
    """
    for leftover in releases_root().glob(f".build-{release_id}-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def lease_expired(release: Release, *, now: datetime | None = None) -> bool:
    """A running release whose attempt has not renewed its lease in time: its worker stopped."""
    if release.status != ReleaseStatus.RUNNING:
        return False
    return release.leased_until is None or release.leased_until <= (now or timezone.now())


def _held(release_id: int, attempt: int) -> QuerySet[Release]:
    return Release.objects.filter(pk=release_id, attempts=attempt, status=ReleaseStatus.RUNNING)


# --- Claiming ---


def release_attempt_claim(*, release_id: int) -> Release | None:
    """Start a new attempt at building a queued release, or a running one whose lease expired.

    Returns the release as claimed (its `attempts` is the new attempt's number), or None when the
    release is finished, or held by an attempt whose lease is still live, or was failed now for
    having stopped MAX_STARTS times.
    """
    with transaction.atomic():
        release = Release.objects.select_for_update().get(pk=release_id)
        now = timezone.now()
        if lease_expired(release, now=now):
            if not release_interruption_record(release=release, now=now, then="taken over"):
                return None
        elif release.status != ReleaseStatus.QUEUED:
            return None
        release.status = ReleaseStatus.RUNNING
        release.attempts += 1
        release.started_at = release.heartbeat_at = now
        release.leased_until = now + lease_length()
        release.rows_total = release.rows_written = 0
        release.error = ""
        release.save(
            update_fields=[
                "status", "attempts", "started_at", "heartbeat_at", "leased_until", "rows_total", "rows_written",
                "error",
            ]
        )  # fmt: skip
        return release


def release_interruption_record(*, release: Release, now: datetime, then: str) -> bool:
    """Record that the attempt holding `release` stopped; whether it may start again.

    Precondition: the release's row is locked (SELECT FOR UPDATE) and its lease expired. A release that
    stopped MAX_STARTS times in a row is failed here with the reason; otherwise it counts one more
    automatic restart and the caller starts it again (`then` says how: "taken over", "queued again").
    """
    seen = release.heartbeat_at or release.started_at or now
    starts = release.restarts + 1
    stop = {"attempt": release.attempts, "last_seen": seen.isoformat(), "at": now.isoformat()}
    if starts < MAX_STARTS:
        release.restarts = starts
        release.interruptions = [*release.interruptions, {**stop, "then": then}]
        release.save(update_fields=["restarts", "interruptions"])
        logger.warning("Release %s: the worker of attempt %s stopped; %s", release.pk, release.attempts, then)
        return True
    release.interruptions = [*release.interruptions, {**stop, "then": "failed"}]
    release.status = ReleaseStatus.FAILED
    release.error = (
        f"The worker building this release stopped during attempt {release.attempts} (last sign of work at "
        f"{seen:%Y-%m-%d %H:%M:%S %Z}). It was started {starts} times in a row and stopped each time, so it is "
        "not started again; retry it once the workers' trouble is found."
    )
    release.finished_at = now
    release.leased_until = None
    release.save(update_fields=["interruptions", "status", "error", "finished_at", "leased_until"])
    attempt_directories_remove(release.pk)
    logger.warning("Release %s: the worker of attempt %s stopped; failed", release.pk, release.attempts)
    return False


# --- Holding ---


def release_lease_renew(*, release_id: int, attempt: int, cursor=None, **progress: int) -> None:
    """Extend the attempt's lease by LEASE_SECONDS, with its progress (`rows_written`, `rows_total`).

    Raises ReleaseSuperseded when the attempt no longer holds the release. `cursor` is one of a second,
    autocommit connection, through which a build reports while its own snapshot transaction is open.
    """
    now = timezone.now()
    fields = {"leased_until": now + lease_length(), "heartbeat_at": now, **progress}
    if cursor is None:
        renewed = _held(release_id, attempt).update(**fields)
    else:
        assignments = ", ".join(f"{name} = %s" for name in fields)
        cursor.execute(
            f"UPDATE {Release._meta.db_table} SET {assignments} WHERE id = %s AND attempts = %s AND status = %s",
            [*fields.values(), release_id, attempt, ReleaseStatus.RUNNING],
        )
        renewed = cursor.rowcount
    if not renewed:
        raise ReleaseSuperseded(f"attempt {attempt} at release {release_id} was taken over")


@contextmanager
def release_lease_final(*, release_id: int, attempt: int) -> Iterator[Release]:
    """Hold the release for the attempt's last step: publishing its files and recording the outcome.

    Inside one transaction, after a conditional write that locks the row (raising ReleaseSuperseded if
    the attempt lost the release), so no other attempt can take over until the step has committed.
    """
    with transaction.atomic():
        release_lease_renew(release_id=release_id, attempt=attempt)
        yield Release.objects.get(pk=release_id)


# --- Recovering ---


def releases_recover_stale() -> list[int]:
    """Queue again (or fail) every running release whose lease expired; the ids of those queued again."""
    now = timezone.now()
    stale = Release.objects.filter(status=ReleaseStatus.RUNNING).filter(
        Q(leased_until__isnull=True) | Q(leased_until__lte=now)
    )
    requeued = []
    for release_id in list(stale.values_list("pk", flat=True)):
        with transaction.atomic():
            release = Release.objects.select_for_update(skip_locked=True).filter(pk=release_id).first()
            # Another process may have recovered it, or its attempt may have renewed since the query.
            if release is None or not lease_expired(release, now=now):
                continue
            if release_interruption_record(release=release, now=now, then="queued again"):
                release_requeue(release)
                requeued.append(release.pk)
    return requeued


def releases_recheck_at() -> datetime | None:
    """When the last lease of a running release runs out (a moment after), if any release is running:
    a worker starting just after another was killed looks again then."""
    last = Release.objects.filter(status=ReleaseStatus.RUNNING).aggregate(last=Max("leased_until"))["last"]
    return None if last is None else last + timedelta(seconds=1)


def release_requeue(release: Release, *, enqueue: bool = True) -> None:
    """Queue the release's build again; its task is sent (unless `enqueue` is False) once this commits.

    Precondition: the release's row is locked. The attempt that held it (if any) loses it: its next
    conditional write finds the release no longer running.
    """
    release.status = ReleaseStatus.QUEUED
    release.finished_at = release.leased_until = None
    release.rows_written = 0
    release.save(update_fields=["status", "finished_at", "leased_until", "rows_written"])
    if enqueue:
        from curation.jobs import release_build_task  # Celery loads where a job is queued, not with the URLs

        transaction.on_commit(partial(release_build_task.delay, release.pk))
