"""A real worker killed mid-build: its release is not left running, and the build that replaces it is the only one
that publishes."""

import shutil
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

import config.settings.test as test_settings
from config.celery import app as celery_app
from curation.models import Release, ReleaseStatus, SeedTask, TaskStatus
from curation.services.release_attempts import RELEASES_DIR
from curation.services.releases import release_create
from curation.text.hashing import content_hash
from tests.factories import AdminFactory, ProjectFactory, phi_scanned_in_bulk
from tests.markers import needs_worker
from tests.worker import running_worker, wait_until

TASKS = 40_000


def _accepted_tasks(project, n: int) -> None:
    tasks = SeedTask.objects.bulk_create(
        [
            SeedTask(
                project=project,
                instruction=f"Explain the first-line treatment of condition number {i}.",
                reference_output=f"Treatment {i}: lifestyle measures, then medication as indicated.",
                status=TaskStatus.ACCEPTED,
                accepted_version=1,
                content_hash=content_hash(f"Explain the first-line treatment of condition number {i}.", "", str(i)),
            )
            for i in range(n)
        ],
        batch_size=5000,
    )
    phi_scanned_in_bulk(tasks)


@contextmanager
def sending_to(queue: str):
    """Tasks sent meanwhile go to `queue` through the broker, for a worker started afterwards."""
    old = celery_app.conf.task_always_eager, celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = False, queue
    try:
        yield
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = old


@pytest.mark.worker
@needs_worker
@pytest.mark.django_db(transaction=True)
def test_killing_a_real_worker_mid_build_leaves_a_release_the_next_reader_starts_again(client, settings):
    # The worker writes where its own settings put release files: the default media folder.
    settings.MEDIA_ROOT = Path(test_settings.MEDIA_ROOT)
    project, admin = ProjectFactory(), AdminFactory()
    client.force_login(admin)
    _accepted_tasks(project, TASKS)
    queue = f"test-{uuid.uuid4().hex[:8]}"
    created = None

    def now_release() -> Release:
        return Release.objects.get(pk=created.pk)

    try:
        with running_worker(queue=queue) as worker:
            created = release_create(project=project, created_by=admin, format="alpaca")
            # Killed as soon as the worker has claimed the build: a build of 40,000 rows now takes about a
            # second, so waiting for its first progress report (every half second) could let it finish first.
            reached = wait_until(lambda: now_release().status == ReleaseStatus.RUNNING, interval=0.01)
            worker.kill()
            worker.wait(timeout=15)
        killed = now_release()
        assert reached, f"the worker never started the build: {killed.status}"
        assert killed.status == ReleaseStatus.RUNNING and killed.attempts == 1
        assert killed.leased_until > timezone.now(), "the lease of a build killed a moment ago is still live"
        assert client.get(reverse("api_release_detail", args=[project.slug, created.pk])).json()["status"] == "running"

        # A minute passes: the dead build's lease runs out.
        Release.objects.filter(pk=created.pk).update(leased_until=timezone.now() - timedelta(seconds=1))
        with sending_to(queue):  # the page queues the build again, for the worker started next
            page = client.get(reverse("release_detail", args=[project.slug, created.pk])).content.decode()
        assert "The worker building this release stopped during attempt 1" in page
        assert now_release().status == ReleaseStatus.QUEUED

        with running_worker(queue=queue):
            done = wait_until(lambda: now_release().is_finished, timeout=180)
        release = now_release()
        assert done, f"the restarted build did not finish: {release.status}"
        assert release.status == ReleaseStatus.SUCCEEDED, release.error
        assert release.attempts == 2 and [stop["then"] for stop in release.interruptions] == ["queued again"]
        data = Path(settings.MEDIA_ROOT) / release.file_path
        assert release.row_count == TASKS and sum(1 for _ in data.open("rb")) == TASKS
        assert not list((Path(settings.MEDIA_ROOT) / RELEASES_DIR).glob(f".build-{release.pk}-*"))
    finally:
        releases = Path(settings.MEDIA_ROOT) / RELEASES_DIR
        if created is not None:
            for folder in [*releases.glob(f".build-{created.pk}-*"), releases / f"release-{created.pk}"]:
                shutil.rmtree(folder, ignore_errors=True)
