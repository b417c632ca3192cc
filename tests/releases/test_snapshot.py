"""A release reads one consistent snapshot and shows its progress while it runs (PostgreSQL: the real thing)."""

import json
import threading
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections

from curation.jobs import release_build_task
from curation.models import Release, ReleaseStatus, SeedTask, TaskStatus
from curation.services.releases import release_build, release_create
from tests.factories import ProjectFactory, SeedTaskFactory
from tests.markers import needs_worker, on_postgres
from tests.worker import running_worker, wait_until, worker_available


def _in_another_connection(work):
    """Run `work` on its own database connection, as another web request or worker would."""
    result = {}

    def run():
        try:
            result["value"] = work()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    return result.get("value")


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_an_edit_committed_during_a_build_does_not_tear_the_release():
    assert connection.vendor == "postgresql"
    project = ProjectFactory()
    tasks = SeedTaskFactory.create_batch(5, project=project, status=TaskStatus.ACCEPTED, reference_output="before")
    release = release_create(project=project, created_by=None, format="alpaca", enqueue=False)
    seen = {}

    def edit_the_last_task_while_the_first_is_written(rows):
        if rows == 1:
            _in_another_connection(lambda: SeedTask.objects.filter(pk=tasks[-1].pk).update(reference_output="after"))
            _in_another_connection(lambda: SeedTask.objects.filter(pk=tasks[0].pk).update(status=TaskStatus.REJECTED))
            seen["progress"] = _in_another_connection(
                lambda: Release.objects.values_list("status", "rows_total").get(pk=release.pk)
            )

    built = release_build(release_id=release.pk, on_line=edit_the_last_task_while_the_first_is_written)

    lines = (Path(settings.MEDIA_ROOT) / built.file_path).read_text().splitlines()
    assert [json.loads(line)["output"] for line in lines] == ["before"] * 5
    assert SeedTask.objects.get(pk=tasks[-1].pk).reference_output == "after"
    assert "Seed tasks in scope: 5 " in built.card, "the card, read after the rows, saw the same snapshot"
    assert seen["progress"] == (ReleaseStatus.RUNNING, 5), "others see the running build and its total"


@pytest.mark.django_db(transaction=True)
def test_people_write_while_a_release_is_built_and_the_release_keeps_what_it_first_read():
    # On SQLite too: the build reads a snapshot without holding the one write lock, so a reviewer's
    # write goes through at once instead of waiting for the whole build.
    project = ProjectFactory()
    tasks = SeedTaskFactory.create_batch(5, project=project, status=TaskStatus.ACCEPTED, reference_output="before")
    release = release_create(project=project, created_by=None, format="alpaca", enqueue=False)
    written = {}

    def edit_at_once():
        with connection.cursor() as cursor:  # this thread's own connection: give up at once if locked
            cursor.execute("PRAGMA busy_timeout = 0" if connection.vendor == "sqlite" else "SET lock_timeout = '100ms'")
        return SeedTask.objects.filter(pk=tasks[-1].pk).update(reference_output="after")

    def edit_the_last_task_while_the_first_is_written(rows):
        if rows == 1:
            written["rows"] = _in_another_connection(edit_at_once)

    built = release_build(release_id=release.pk, on_line=edit_the_last_task_while_the_first_is_written)

    assert written == {"rows": 1}, "the edit made during the build was refused"
    lines = (Path(settings.MEDIA_ROOT) / built.file_path).read_text().splitlines()
    assert [json.loads(line)["output"] for line in lines] == ["before"] * 5
    assert SeedTask.objects.get(pk=tasks[-1].pk).reference_output == "after"


@pytest.mark.worker
@needs_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_builds_a_queued_release(media, monkeypatch):
    assert worker_available(), "CI must provide PostgreSQL and a broker for the worker tests"
    monkeypatch.setenv("MEDIA_ROOT", str(media))  # the worker process reads its settings from the environment
    project = ProjectFactory()
    SeedTaskFactory.create_batch(4, project=project, status=TaskStatus.ACCEPTED)
    release = release_create(project=project, created_by=None, format="alpaca", enqueue=False)

    with running_worker(queue=f"test-{uuid.uuid4().hex[:8]}") as worker:
        release_build_task.delay(release.pk)
        finished = wait_until(lambda: Release.objects.get(pk=release.pk).is_finished)
        assert worker.poll() is None, "the worker exited early"
    assert finished, "the worker did not build the release within a minute"
    release.refresh_from_db()
    assert release.status == ReleaseStatus.SUCCEEDED, release.error
    assert release.row_count == 4
    assert (Path(media) / release.file_path).is_file()
