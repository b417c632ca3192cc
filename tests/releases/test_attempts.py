"""Release builds hold a lease: one attempt builds at a time, a stopped one is taken over only once its
lease expired, a superseded one stops at its next write and leaves no file, and each works in its own folder."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from curation.jobs import release_build_task, releases_recover_at_worker_start
from curation.models import Release, ReleaseStatus, TaskStatus
from curation.services import release_builds
from curation.services.release_attempts import (
    MAX_STARTS,
    ReleaseSuperseded,
    attempt_directory,
    release_attempt_claim,
    release_directory,
    release_lease_renew,
    releases_recheck_at,
    releases_recover_stale,
)
from curation.services.release_builds import release_build
from curation.services.releases import ReleaseNotRetryable, release_create, release_retry
from tests.factories import ProjectFactory, SeedTaskFactory
from tests.markers import on_postgres


def _defined(project, n: int = 5) -> Release:
    SeedTaskFactory.create_batch(n, project=project, status=TaskStatus.ACCEPTED)
    return release_create(project=project, created_by=None, format="alpaca", enqueue=False)


def _lease_runs_out(release: Release, *, seconds_ago: int = 1) -> None:
    """What a worker killed mid-build leaves once its lease has run out: the release still running."""
    now = timezone.now()
    Release.objects.filter(pk=release.pk).update(
        leased_until=now - timedelta(seconds=seconds_ago), heartbeat_at=now - timedelta(seconds=seconds_ago + 60)
    )


def _stopped(release: Release, *, attempts: int = 1, restarts: int = 0) -> None:
    Release.objects.filter(pk=release.pk).update(status=ReleaseStatus.RUNNING, attempts=attempts, restarts=restarts)
    _lease_runs_out(release)


def _rows(release: Release) -> list[dict]:
    return [json.loads(line) for line in release_directory(release).joinpath("data.jsonl").read_text().splitlines()]


def _build_folders(media) -> list[str]:
    return sorted(p.name for p in (Path(media) / "releases").glob(".build-*"))


def _after_writing(monkeypatch, step) -> None:
    """Run `step` once the first attempt has written its files, before it publishes them: outside its
    snapshot transaction, where another worker's build can interleave with it on any database."""
    write = release_builds._build_in_snapshot

    def written(release, work_dir, on_line):
        manifest = write(release, work_dir, on_line)
        if release.attempts == 1:
            step()
        return manifest

    monkeypatch.setattr(release_builds, "_build_in_snapshot", written)


def test_a_second_attempt_cannot_take_over_while_the_first_holds_its_lease_and_can_once_it_expired(
    project, media, monkeypatch
):
    release = _defined(project)
    seen = {}

    def first_line(rows):
        if rows == 2 and "while_live" not in seen:
            # Another delivery of the task while the first attempt's lease is live: it leaves the release alone.
            seen["while_live"] = release_build(release_id=release.pk)
            seen["folders_while_live"] = _build_folders(media)

    def second_line(rows):
        if rows == 1:
            seen["folders_while_both"] = _build_folders(media)

    def lease_lapses_and_the_next_delivery_takes_over():
        _lease_runs_out(release)
        seen["second"] = release_build(release_id=release.pk, on_line=second_line)

    _after_writing(monkeypatch, lease_lapses_and_the_next_delivery_takes_over)
    first = release_build(release_id=release.pk, on_line=first_line)

    assert seen["while_live"].status == ReleaseStatus.RUNNING and seen["while_live"].attempts == 1
    assert seen["folders_while_live"] == [f".build-{release.pk}-1"]
    assert seen["folders_while_both"] == [f".build-{release.pk}-1", f".build-{release.pk}-2"]
    assert seen["second"].status == ReleaseStatus.SUCCEEDED and seen["second"].attempts == 2
    # The first attempt's next write (publishing) finds the release taken: it stops, leaving the second's files.
    assert first.status == ReleaseStatus.SUCCEEDED and first.attempts == 2 and first.sha256 == seen["second"].sha256
    assert len(_rows(first)) == 5 and _build_folders(media) == []
    assert [stop["then"] for stop in first.interruptions] == ["taken over"] and first.interruptions[0]["attempt"] == 1


def test_a_superseded_attempt_cannot_renew_its_lease_or_report_progress(project):
    release = _defined(project)
    first = release_attempt_claim(release_id=release.pk)
    assert release_attempt_claim(release_id=release.pk) is None, "the first attempt's lease is live"

    release_lease_renew(release_id=release.pk, attempt=first.attempts, rows_written=1, rows_total=5)
    _lease_runs_out(release)
    second = release_attempt_claim(release_id=release.pk)

    assert second.attempts == first.attempts + 1
    with pytest.raises(ReleaseSuperseded):
        release_lease_renew(release_id=release.pk, attempt=first.attempts, rows_written=2, rows_total=5)
    release.refresh_from_db()
    assert release.leased_until == second.leased_until and release.rows_written == 0


def test_a_superseded_attempt_that_fails_leaves_the_release_to_its_successor(project, media, monkeypatch):
    release = _defined(project)

    def taken_over_then_disk_full():
        _lease_runs_out(release)
        release_attempt_claim(release_id=release.pk)
        raise OSError("disk full")

    _after_writing(monkeypatch, taken_over_then_disk_full)
    after = release_build(release_id=release.pk)

    assert after.status == ReleaseStatus.RUNNING and after.attempts == 2 and after.error == ""
    assert not attempt_directory(release.pk, 1).exists() and not release_directory(release).exists()


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_superseded_attempt_stops_at_its_next_progress_report(monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(release_builds, "PROGRESS_EVERY_SECONDS", 0)
    release = _defined(ProjectFactory(), n=20)
    lines = []

    def taken_over_elsewhere(rows):
        lines.append(rows)
        if rows == 3:
            # Another worker's claim, committed while this attempt's snapshot transaction is open.
            other = connections.create_connection(DEFAULT_DB_ALIAS)
            with other.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {Release._meta.db_table} SET attempts = attempts + 1 WHERE id = %s", [release.pk]
                )
            other.close()

    after = release_build(release_id=release.pk, on_line=taken_over_elsewhere)

    assert lines == [1, 2, 3], "the attempt wrote on after its report failed"
    assert after.status == ReleaseStatus.RUNNING and after.attempts == 2
    assert _build_folders(settings.MEDIA_ROOT) == [] and not release_directory(release).exists()


def test_a_redelivered_task_leaves_alone_a_release_whose_build_holds_a_live_lease(project, media):
    release = _defined(project)
    release_attempt_claim(release_id=release.pk)

    assert release_build_task.apply(args=[release.pk]).get() == ReleaseStatus.RUNNING

    release.refresh_from_db()
    assert release.attempts == 1 and release.interruptions == [] and _build_folders(media) == []


def test_a_redelivered_task_takes_over_a_release_whose_lease_expired(project, media):
    release = _defined(project)
    _stopped(release)

    assert release_build_task.apply(args=[release.pk]).get() == ReleaseStatus.SUCCEEDED

    release.refresh_from_db()
    assert release.attempts == 2 and release.restarts == 1 and release.interruptions[0]["then"] == "taken over"


def test_recovery_queues_again_a_release_whose_lease_expired_and_its_worker_builds_it(
    project, django_capture_on_commit_callbacks
):
    release = _defined(project)
    _stopped(release)

    with django_capture_on_commit_callbacks(execute=True):
        assert releases_recover_stale() == [release.pk]

    release.refresh_from_db()
    assert release.status == ReleaseStatus.SUCCEEDED and release.attempts == 2
    assert release.interruptions[0]["attempt"] == 1 and release.interruptions[0]["then"] == "queued again"


def test_recovery_leaves_a_release_whose_lease_is_live(project):
    release = _defined(project)
    release_attempt_claim(release_id=release.pk)

    assert releases_recover_stale() == []
    assert Release.objects.get(pk=release.pk).status == ReleaseStatus.RUNNING


def test_a_release_stopped_three_times_in_a_row_is_failed_with_the_reason_and_its_folders_removed(project, media):
    release = _defined(project)
    _stopped(release, attempts=MAX_STARTS, restarts=MAX_STARTS - 1)
    leftover = attempt_directory(release.pk, MAX_STARTS)
    leftover.mkdir(parents=True)
    (leftover / "data.jsonl").write_text('{"instruction": "half')

    assert releases_recover_stale() == []

    release.refresh_from_db()
    assert release.status == ReleaseStatus.FAILED and release.finished_at is not None
    assert f"stopped during attempt {MAX_STARTS}" in release.error
    assert f"started {MAX_STARTS} times in a row and stopped each time" in release.error
    assert release.interruptions[-1]["then"] == "failed" and not leftover.exists()


def test_a_person_retrying_starts_the_count_of_restarts_anew(project):
    release = _defined(project)
    _stopped(release, attempts=MAX_STARTS, restarts=MAX_STARTS - 1)
    releases_recover_stale()

    release_retry(release_id=release.pk, actor=None, enqueue=False)
    rebuilt = release_build(release_id=release.pk)

    assert rebuilt.status == ReleaseStatus.SUCCEEDED and rebuilt.restarts == 0 and rebuilt.attempts == MAX_STARTS + 1


def test_a_running_release_is_retried_only_once_its_lease_expired(project):
    release = _defined(project)
    release_attempt_claim(release_id=release.pk)
    with pytest.raises(ReleaseNotRetryable, match="builds whose worker stopped"):
        release_retry(release_id=release.pk, actor=None, enqueue=False)

    _lease_runs_out(release)
    retried = release_retry(release_id=release.pk, actor=None, enqueue=False)

    assert retried.status == ReleaseStatus.QUEUED and retried.interruptions[0]["then"] == "queued again"


def test_defining_a_release_and_a_worker_starting_each_recover_stopped_builds(project):
    stopped = _defined(project)
    _stopped(stopped)
    release_create(project=project, created_by=None, format="chat")
    assert Release.objects.get(pk=stopped.pk).status == ReleaseStatus.QUEUED

    _stopped(stopped, attempts=2, restarts=1)
    releases_recover_at_worker_start()
    assert Release.objects.get(pk=stopped.pk).status == ReleaseStatus.QUEUED
    assert [stop["attempt"] for stop in Release.objects.get(pk=stopped.pk).interruptions] == [1, 2]


def test_a_worker_starting_looks_again_when_the_last_live_lease_runs_out(project):
    assert releases_recheck_at() is None
    release = _defined(project)
    claimed = release_attempt_claim(release_id=release.pk)

    assert releases_recheck_at() == claimed.leased_until + timedelta(seconds=1)
    assert timedelta(seconds=59) < claimed.leased_until - claimed.started_at <= timedelta(seconds=60)
