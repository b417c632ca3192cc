"""Uploaded imports run on a real Celery worker, and their progress is visible while they write."""

import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DEFAULT_DB_ALIAS, connections

from curation.models import ImportJob, ImportStatus, SeedTask
from curation.services import imports
from curation.services.imports import import_file, import_job_create, storage
from tests.factories import CuratorFactory, ProjectFactory
from tests.markers import needs_worker, on_postgres
from tests.worker import running_worker, wait_until, worker_available


def seeds(n: int) -> list[dict]:
    return [{"instruction": f"Define term {i}.", "input": "", "output": f"Term {i} means {i}."} for i in range(n)]


@pytest.mark.worker
@needs_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_imports_an_uploaded_file():
    assert worker_available(), "CI must provide PostgreSQL and a broker for the worker tests"
    project, curator = ProjectFactory(), CuratorFactory()
    upload = SimpleUploadedFile("terms.json", json.dumps(seeds(300)).encode())

    with running_worker(queue=f"test-{uuid.uuid4().hex[:8]}") as worker:
        job = import_job_create(project=project, upload=upload, created_by=curator)
        done = wait_until(lambda: ImportJob.objects.get(pk=job.pk).status in imports.FINISHED)
        assert worker.poll() is None, "the worker exited early"
    try:
        assert done, "the worker did not finish the import within a minute"
        job.refresh_from_db()
        assert job.status == ImportStatus.SUCCEEDED, job.problems or job.report
        assert SeedTask.objects.filter(project=project, import_job=job).count() == 300
    finally:
        job.file.delete(save=False)


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_a_poller_sees_records_written_grow_before_the_records_commit(tmp_path, monkeypatch):
    project = ProjectFactory()
    path = tmp_path / "terms.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in seeds(50)))
    monkeypatch.setattr(storage, "BATCH_SIZE", 10)
    seen = []

    def poll(job):
        if job.status != ImportStatus.WRITING:
            return
        other = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with other.cursor() as cursor:
                cursor.execute(f"SELECT records_written FROM {ImportJob._meta.db_table} WHERE id = %s", [job.pk])
                written = cursor.fetchone()[0]
                cursor.execute(f"SELECT count(*) FROM {SeedTask._meta.db_table} WHERE project_id = %s", [project.pk])
                seen.append((written, cursor.fetchone()[0]))
        finally:
            other.close()

    job = import_file(project=project, path=path, on_progress=poll)

    assert job.status == ImportStatus.SUCCEEDED
    assert (20, 0) in seen and (40, 0) in seen, seen  # progress visible, records not yet
    assert SeedTask.objects.filter(project=project).count() == 50
