"""Pass 2 on a database with one writer (SQLite, the embedded default) commits batch by batch, so
people's writes pass between the batches, and the import stays all or nothing: a job that fails or
whose worker dies has what it wrote taken back."""

import json

import pytest
from django.db import DEFAULT_DB_ALIAS, connections

from curation.models import Assignment, ImportJob, ImportStatus, ModelResponse, Prompt, SeedTask
from curation.services.imports import import_file, run, storage
from tests.counts import assert_counts_true
from tests.factories import AssignmentFactory, ClinicianFactory, CuratorFactory, ProjectFactory

RECORDS = 30
BATCH = 10


def seeds(tmp_path, n: int = RECORDS, name: str = "seeds.jsonl", tag: str = ""):
    path = tmp_path / name
    path.write_text(
        "".join(json.dumps({"instruction": f"Define term {tag}{i}.", "output": f"Term {i}."}) + "\n" for i in range(n))
    )
    return path


def history_rows():
    return SeedTask.history.model.objects


@pytest.fixture
def batches(monkeypatch):
    monkeypatch.setattr(storage, "BATCH_SIZE", BATCH)


def other_writer():
    """A second connection, as a clinician's autosave has, that gives up at once when it cannot write."""
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    with other.cursor() as cursor:
        if other.vendor == "sqlite":
            cursor.execute("PRAGMA busy_timeout = 0")
        else:
            cursor.execute("SET lock_timeout = '100ms'")
    return other


@pytest.mark.django_db(transaction=True)
def test_another_connection_can_write_between_the_batches_of_a_large_import(tmp_path, monkeypatch, batches):
    user = CuratorFactory()
    project = ProjectFactory()
    other = other_writer()
    refused: list[str] = []
    probes = 0
    read = storage.Spool.read

    def read_and_probe(spool):
        # Each record pass 2 takes from the spool: the moment between two batches included.
        nonlocal probes
        for record in read(spool):
            probes += 1
            try:
                with other.cursor() as cursor:
                    cursor.execute("UPDATE accounts_user SET last_login = last_login WHERE id = %s", [user.pk])
            except Exception as exc:  # "database is locked": the import holds the only write lock
                refused.append(str(exc))
            yield record

    monkeypatch.setattr(storage.Spool, "read", read_and_probe)
    try:
        job = import_file(project=project, path=seeds(tmp_path))
    finally:
        other.close()

    assert job.status == ImportStatus.SUCCEEDED and SeedTask.objects.filter(project=project).count() == RECORDS
    assert probes == RECORDS and refused == []


def test_a_failed_import_leaves_nothing_visible_and_nothing_behind(project, tmp_path, monkeypatch, batches):
    original = storage.Inserter.insert
    inserts = []

    def fail_on_the_third_batch(self, model, rows):
        inserts.append(len(rows))
        if len(inserts) == 3:
            raise RuntimeError("disk full")
        return original(self, model, rows)

    monkeypatch.setattr(storage.Inserter, "insert", fail_on_the_third_batch)

    job = import_file(project=project, path=seeds(tmp_path))

    assert job.status == ImportStatus.ERROR and job.report["error"] == "RuntimeError: disk full"
    assert inserts == [BATCH, BATCH, BATCH]  # two batches were written before the third failed
    assert not SeedTask.objects.exists() and not history_rows().exists()
    assert_counts_true(project)  # the batches counted what they wrote; the counts went with the rows


def test_what_a_failed_job_wrote_is_deleted_with_its_history_except_rows_people_began_work_on(project, tmp_path):
    job = import_file(project=project, path=seeds(tmp_path))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.WRITING)  # as if it had not finished
    assigned = SeedTask.objects.filter(import_job=job).order_by("pk")[5]
    AssignmentFactory(seed_task=assigned, reviewer=ClinicianFactory())
    before = {"history": history_rows().count(), "assignments": Assignment.objects.count()}

    counts = storage.import_rows_discard(job_id=job.pk)

    assert counts == {"discarded": RECORDS - 1, "kept": 1}
    assert list(SeedTask.objects.all()) == [assigned]
    assert history_rows().count() == before["history"] - (RECORDS - 1)
    assert Assignment.objects.count() == before["assignments"]
    assert_counts_true(project)


def test_discarding_answers_takes_them_before_the_prompts_they_answer(project, tmp_path):
    pairs = [
        {"instruction": f"Question {i}?", "output": f"Reference {i}.", "generator": "m0", "response": f"Answer {i}."}
        for i in range(3)
    ]
    path = tmp_path / "m1.json"
    path.write_text(json.dumps(pairs))
    job = import_file(project=project, path=path)
    assert job.status == ImportStatus.SUCCEEDED, job.problems
    assert (Prompt.objects.count(), ModelResponse.objects.count()) == (3, 6)

    assert storage.import_rows_discard(job_id=job.pk) == {"discarded": 9, "kept": 0}
    assert not Prompt.objects.exists() and not ModelResponse.objects.exists()


def test_an_import_never_reuses_the_id_of_a_deleted_task(project, tmp_path):
    first = import_file(project=project, path=seeds(tmp_path, 3, "a.jsonl", tag="a"))
    highest = SeedTask.objects.filter(import_job=first).order_by("-pk").first()
    deleted = highest.pk
    highest.delete()

    second = import_file(project=project, path=seeds(tmp_path, 3, "b.jsonl", tag="b"))

    assert min(SeedTask.objects.filter(import_job=second).values_list("pk", flat=True)) > deleted


def test_an_import_waits_while_another_import_of_the_project_is_writing(project, tmp_path, monkeypatch):
    # The claim is how batched writes keep two imports of the same records apart; on PostgreSQL the
    # one transaction's project lock does it, so the batched path is taken here whatever the database.
    monkeypatch.setattr(run, "writes_in_batches", lambda: True)
    monkeypatch.setattr(run, "WAIT_SECONDS", 0)
    writing = ImportJob.objects.create(project=project, file_name="other.jsonl", status=ImportStatus.WRITING)
    waits = []

    def the_other_finishes():
        # Called while the job waits for the other one: it has written nothing yet.
        waits.append(SeedTask.objects.filter(project=project).count())
        ImportJob.objects.filter(pk=writing.pk).update(status=ImportStatus.SUCCEEDED)
        return []

    monkeypatch.setattr(run, "import_jobs_recover_stale", the_other_finishes)

    job = import_file(project=project, path=seeds(tmp_path))

    assert waits == [0]
    assert job.status == ImportStatus.SUCCEEDED and job.records_written == RECORDS
    assert SeedTask.objects.filter(project=project).count() == RECORDS
