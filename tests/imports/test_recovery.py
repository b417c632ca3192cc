"""An import whose worker died does not hang: its stale heartbeat is found, and it starts again or fails saying why."""

import json
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from curation.models import ImportJob, ImportStatus, SeedTask
from curation.services.imports import FINISHED, import_job_create, import_jobs_recover_stale
from curation.text.hashing import content_hash
from tests.factories import CuratorFactory, ProjectFactory
from tests.markers import needs_worker
from tests.worker import running_worker, wait_until


def seeds(n: int) -> bytes:
    return "".join(
        json.dumps({"instruction": f"Define term {i}.", "input": "", "output": f"Term {i} means {i}."}) + "\n"
        for i in range(n)
    ).encode()


def stalled(job: ImportJob, status: str, seconds: int = 61) -> None:
    """What a worker killed mid-import leaves: the job still running, its heartbeat `seconds` old."""
    beat = timezone.now() - timedelta(seconds=seconds)
    ImportJob.objects.filter(pk=job.pk).update(status=status, started_at=beat, heartbeat_at=beat)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_an_uploaded_job_left_running_is_started_again_from_the_start(
    project, curator, media, django_capture_on_commit_callbacks
):
    job = import_job_create(project=project, upload=SimpleUploadedFile("t.jsonl", seeds(5)), created_by=curator)
    stalled(job, ImportStatus.WRITING)

    with django_capture_on_commit_callbacks(execute=True):
        assert import_jobs_recover_stale() == [job.pk]

    job.refresh_from_db()
    assert job.status == ImportStatus.SUCCEEDED and SeedTask.objects.filter(import_job=job).count() == 5
    assert job.report["starts"] == 2 and job.report["recoveries"][0]["while"] == "writing"


def test_rows_a_job_wrote_before_its_worker_died_are_deleted_before_it_starts_again(
    project, curator, media, django_capture_on_commit_callbacks
):
    job = import_job_create(project=project, upload=SimpleUploadedFile("t.jsonl", seeds(5)), created_by=curator)
    # What batches committed before the worker died (where each batch commits on its own): two of the
    # records, and one the next start will not bring back, so that its going is seen.
    leftovers = [json.loads(line) for line in seeds(2).decode().splitlines()] + [{"instruction": "Gone.", "output": ""}]
    SeedTask.objects.bulk_create(
        SeedTask(
            project=project,
            import_job=job,
            instruction=r["instruction"],
            reference_output=r["output"],
            content_hash=content_hash(r["instruction"], "", r["output"]),
        )
        for r in leftovers
    )
    stalled(job, ImportStatus.WRITING)

    with django_capture_on_commit_callbacks(execute=True):
        assert import_jobs_recover_stale() == [job.pk]

    job.refresh_from_db()
    assert job.status == ImportStatus.SUCCEEDED and job.records_written == 5
    assert sorted(SeedTask.objects.filter(project=project).values_list("instruction", flat=True)) == [
        f"Define term {i}." for i in range(5)
    ]
    assert "nothing was written" in job.report["recovered"]


def test_a_job_whose_heartbeat_is_recent_is_left_to_its_worker(project, curator, media):
    job = import_job_create(project=project, upload=SimpleUploadedFile("t.jsonl", seeds(5)), created_by=curator)
    stalled(job, ImportStatus.VALIDATING, seconds=20)

    assert import_jobs_recover_stale() == []
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.VALIDATING


def test_a_job_read_from_the_importers_disk_is_failed_with_the_reason_and_the_page_says_so(client, project, curator):
    job = ImportJob.objects.create(project=project, file_name="big.jsonl", status=ImportStatus.VALIDATING)
    stalled(job, ImportStatus.VALIDATING)
    client.force_login(curator)

    page = client.get(reverse("import_detail", args=[project.slug, job.pk])).content.decode()

    job.refresh_from_db()
    assert job.status == ImportStatus.ERROR and job.finished_at is not None
    assert "stopped while validating" in job.report["error"] and "run the import again" in job.report["error"]
    assert "The worker importing this file stopped while validating" in page and "hx-trigger" not in page


def test_a_job_that_keeps_stopping_its_workers_is_failed_after_three_starts(project, curator, media):
    job = import_job_create(project=project, upload=SimpleUploadedFile("t.jsonl", seeds(5)), created_by=curator)
    ImportJob.objects.filter(pk=job.pk).update(report={"starts": 3})
    stalled(job, ImportStatus.WRITING)

    assert import_jobs_recover_stale() == []

    job.refresh_from_db()
    assert job.status == ImportStatus.ERROR and "started 3 times and stopped each time" in job.report["error"]


@pytest.mark.worker
@needs_worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("killed_while", [ImportStatus.VALIDATING, ImportStatus.WRITING])
def test_killing_a_real_worker_mid_import_leaves_a_job_the_next_reader_starts_again(client, killed_while):
    # The worker reads the upload where its own settings put it: the default media folder.
    project, curator = ProjectFactory(), CuratorFactory()
    client.force_login(curator)
    records = 60_000
    queue = f"test-{uuid.uuid4().hex[:8]}"

    def seen(condition) -> bool:
        job = ImportJob.objects.get(pk=created.pk)
        return condition(job)

    with running_worker(queue=queue) as worker:
        created = import_job_create(
            project=project, upload=SimpleUploadedFile("terms.jsonl", seeds(records)), created_by=curator
        )
        if killed_while == ImportStatus.VALIDATING:
            reached = wait_until(
                lambda: seen(lambda j: j.status == "validating" and j.records_validated >= 1000), interval=0.02
            )
        else:
            reached = wait_until(lambda: seen(lambda j: j.status == "writing" and j.records_written > 0), interval=0.02)
        worker.kill()
        worker.wait(timeout=15)
        assert reached, f"the worker never reached {killed_while}: {ImportJob.objects.get(pk=created.pk).status}"

    job = ImportJob.objects.get(pk=created.pk)
    assert job.status == killed_while and not SeedTask.objects.filter(project=project).exists()
    stalled(job, killed_while)  # a minute passes with no heartbeat

    with running_worker(queue=queue):
        client.get(reverse("import_list", args=[project.slug]))  # reading the page finds the stale job
        done = wait_until(lambda: ImportJob.objects.get(pk=job.pk).status in FINISHED, timeout=120)
    job.refresh_from_db()
    try:
        assert done, f"the restarted import did not finish: {job.status}"
        assert job.status == ImportStatus.SUCCEEDED, job.problems or job.report
        assert job.report["recoveries"][0]["while"] == killed_while
        assert SeedTask.objects.filter(project=project).count() == records
        assert job.records_written == records
    finally:
        job.file.delete(save=False)
