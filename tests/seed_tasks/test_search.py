"""Search finds a task by the words it has now: at once after it is created or edited, and after an
import once the job building the import's search documents has run, the task list saying so until then.
On SQLite search reads the tasks themselves, so an imported task is found at once there."""

import json
import uuid
from unittest.mock import patch

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from curation.models import ImportJob, PhiFinding, SeedTask, SeedTaskSearch
from curation.selectors import seed_tasks as seed_task_selectors
from curation.selectors.seed_tasks import seed_tasks_matching, seed_tasks_not_searchable_yet
from curation.services.imports import import_file, import_job_create
from curation.services.phi_findings import phi_finding_redact
from curation.services.seed_task_search import seed_task_search_catch_up, seed_task_search_import_index
from curation.services.seed_tasks import seed_task_create, seed_task_edit
from tests.default_vocabulary import ensure_default_vocabulary
from tests.factories import CuratorFactory, ProjectFactory
from tests.markers import needs_worker, on_postgres
from tests.scale import grow, queries
from tests.worker import running_worker, wait_until


def found(project, words: str) -> list[SeedTask]:
    return list(seed_tasks_matching(SeedTask.objects.filter(project=project), words))


def _import(project, curator, tmp_path, django_capture_on_commit_callbacks, queued: list):
    """Import two tasks as a worker would, with the jobs the import queues once it commits recorded in
    `queued` instead of run."""
    ensure_default_vocabulary()
    lines = [
        {"instruction": "Define hyperkalaemia.", "input": "", "output": "A serum potassium above 5.5 mmol/L."},
        {"instruction": "Define sepsis.", "input": "", "output": "A dysregulated host response to infection."},
    ]
    path = tmp_path / "potassium.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    with (
        patch("curation.jobs.phi_scan_task.delay"),
        patch("curation.jobs.seed_task_search_task.delay", side_effect=queued.append),
        django_capture_on_commit_callbacks(execute=True),
    ):
        return import_file(project=project, path=path, format="alpaca", created_by=curator)


@on_postgres
def test_an_imported_task_is_found_once_the_job_after_the_import_has_run_and_the_list_says_why_not_before(
    client, project, curator, tmp_path, django_capture_on_commit_callbacks
):
    queued: list[int] = []
    job = _import(project, curator, tmp_path, django_capture_on_commit_callbacks, queued)
    client.force_login(curator)
    url = reverse("task_list", args=[project.slug])

    assert queued == [job.pk]
    assert found(project, "potassium") == []
    page = client.get(url, {"q": "potassium"}).content.decode()
    assert f"Search does not find the 2 tasks of import {job.pk} (potassium.jsonl) yet" in page

    assert seed_task_search_import_index(import_job_id=job.pk) == 2

    assert [t.instruction for t in found(project, "potassium")] == ["Define hyperkalaemia."]
    assert "Search does not find" not in client.get(url, {"q": "potassium"}).content.decode()
    assert ImportJob.objects.get(pk=job.pk).search_indexed_at is not None


@on_postgres
def test_an_api_search_that_cannot_see_an_import_yet_names_it_beside_the_results(
    client, project, curator, tmp_path, django_capture_on_commit_callbacks
):
    job = _import(project, curator, tmp_path, django_capture_on_commit_callbacks, [])
    client.force_login(curator)
    url = reverse("api_task_list", args=[project.slug])

    before = client.get(url, {"q": "potassium"}).json()
    assert before["results"] == []
    assert before["not_searchable_yet"] == [{"import_job": job.pk, "file_name": "potassium.jsonl", "tasks": 2}]

    seed_task_search_import_index(import_job_id=job.pk)

    after = client.get(url, {"q": "potassium"}).json()
    assert [t["instruction"] for t in after["results"]] == ["Define hyperkalaemia."]
    assert after["not_searchable_yet"] == []


def test_every_page_of_the_task_list_api_names_the_imports_search_does_not_find_yet(
    client, project, curator, tmp_path, django_capture_on_commit_callbacks, monkeypatch
):
    # PostgreSQL's search documents, whatever the database: the import leaves its job waiting for the worker.
    monkeypatch.setattr(seed_task_selectors, "searches_documents", lambda: True)
    job = _import(project, curator, tmp_path, django_capture_on_commit_callbacks, [])
    client.force_login(curator)
    url = reverse("api_task_list", args=[project.slug])

    first = client.get(url, {"page_size": 1}).json()
    second = client.get(first["next"]).json()

    waiting = [{"import_job": job.pk, "file_name": "potassium.jsonl", "tasks": 2}]
    assert first["not_searchable_yet"] == waiting and second["not_searchable_yet"] == waiting
    assert [t["instruction"] for t in first["results"] + second["results"]] == [
        "Define hyperkalaemia.",
        "Define sepsis.",
    ]


def test_the_task_list_api_names_no_import_where_search_reads_the_tasks_themselves(
    client, project, curator, tmp_path, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(seed_task_selectors, "searches_documents", lambda: False)
    _import(project, curator, tmp_path, django_capture_on_commit_callbacks, [])
    client.force_login(curator)
    body = client.get(reverse("api_task_list", args=[project.slug]), {"q": "potassium"}).json()
    assert [t["instruction"] for t in body["results"]] == ["Define hyperkalaemia."]
    assert body["not_searchable_yet"] == []


def test_without_a_search_the_list_does_not_look_for_imports_waiting(
    client, project, curator, tmp_path, django_capture_on_commit_callbacks
):
    _import(project, curator, tmp_path, django_capture_on_commit_callbacks, [])
    client.force_login(curator)
    assert "Search does not find" not in client.get(reverse("task_list", args=[project.slug])).content.decode()


def test_where_search_reads_the_tasks_themselves_an_imported_task_is_found_at_once_and_no_job_is_queued(
    project, curator, tmp_path, django_capture_on_commit_callbacks, monkeypatch
):
    # SQLite's search: run here whatever the database, so that CI on PostgreSQL checks it too.
    monkeypatch.setattr(seed_task_selectors, "searches_documents", lambda: False)
    queued: list[int] = []
    job = _import(project, curator, tmp_path, django_capture_on_commit_callbacks, queued)
    assert queued == []
    assert [t.instruction for t in found(project, "potassium")] == ["Define hyperkalaemia."]
    assert seed_tasks_not_searchable_yet(project=project) == []
    assert ImportJob.objects.get(pk=job.pk).search_indexed_at is not None


def test_an_edited_task_is_found_by_its_new_words_at_once_and_no_longer_by_its_old_ones(project, curator):
    task = seed_task_create(project=project, instruction="Name two loop diuretics.", created_by=curator)
    assert found(project, "diuretics") == [task]

    seed_task_edit(
        task_id=task.pk,
        editor=curator,
        expected_version=task.version,
        changes={"instruction": "Name two beta blockers."},
        rationale="asked the wrong class",
    )

    assert found(project, "blockers") == [task]
    assert found(project, "diuretics") == []


@on_postgres
def test_an_edit_of_labels_alone_leaves_the_document_as_it_was(project, curator):
    task = seed_task_create(project=project, instruction="Name two loop diuretics.", created_by=curator)
    with patch("curation.services.seed_tasks.seed_task_search_upsert") as upsert:
        seed_task_edit(
            task_id=task.pk, editor=curator, expected_version=1, changes={"difficulty": 4}, rationale="harder"
        )
    upsert.assert_not_called()


def test_a_redaction_takes_the_redacted_words_out_of_search(project, curator):
    task = seed_task_create(
        project=project,
        instruction="Patient John Smith, DOB 03/14/1931, presented with chest pain. What is the differential?",
        created_by=curator,
    )
    assert found(project, "Smith") == [task]
    name = PhiFinding.objects.get(seed_task=task, kind="NAME")

    phi_finding_redact(finding_id=name.pk, curator=curator)

    assert found(project, "Smith") == []
    assert found(project, "chest pain") == [task]


@on_postgres
def test_the_catch_up_builds_missing_and_stale_documents_and_counts_waiting_imports_as_indexed(
    project, curator, tmp_path, django_capture_on_commit_callbacks
):
    job = _import(project, curator, tmp_path, django_capture_on_commit_callbacks, [])  # its job never runs
    edited = seed_task_create(project=project, instruction="Name two loop diuretics.")
    SeedTask.objects.filter(pk=edited.pk).update(instruction="Name two beta blockers.", content_hash="changed")
    assert found(project, "potassium") == [] and found(project, "blockers") == []

    assert seed_task_search_catch_up(project_id=project.pk) == 3

    assert [t.instruction for t in found(project, "potassium")] == ["Define hyperkalaemia."]
    assert found(project, "blockers") == [edited] and found(project, "diuretics") == []
    assert seed_tasks_not_searchable_yet(project=project) == []
    assert ImportJob.objects.get(pk=job.pk).search_indexed_at is not None
    assert seed_task_search_catch_up(project_id=project.pk) == 0  # nothing left to build


@on_postgres
def test_the_command_builds_what_is_missing_project_by_project(project, capsys):
    grow(project, [], 3)
    SeedTaskSearch.objects.filter(project=project).delete()

    call_command("search_index", "--project", project.slug)
    call_command("search_index", "--project", project.slug)

    out = capsys.readouterr().out
    assert f"{project.slug}: built the search documents of 3 tasks" in out
    assert f"{project.slug}: every task's search document was up to date" in out
    assert len(found(project, "condition")) == 3


def test_the_task_list_with_a_search_costs_the_same_at_5_and_at_50_tasks(
    client, project, curator, tmp_path, django_capture_on_commit_callbacks, django_assert_num_queries
):
    _import(project, curator, tmp_path, django_capture_on_commit_callbacks, [])  # an import still waiting
    client.force_login(curator)
    url = reverse("task_list", args=[project.slug]) + "?q=condition"
    grow(project, [], 5)
    small = queries(client, "get", url)
    grow(project, [], 45)
    with django_assert_num_queries(small):
        client.get(url)


@pytest.mark.worker
@needs_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_builds_the_search_documents_of_an_uploaded_import():
    ensure_default_vocabulary()
    project, curator = ProjectFactory(), CuratorFactory()
    records = [
        {"instruction": f"Define term {i}.", "input": "", "output": f"Stage {i} hypertension."} for i in range(30)
    ]
    upload = SimpleUploadedFile("terms.json", json.dumps(records).encode())

    with running_worker(queue=f"test-{uuid.uuid4().hex[:8]}") as worker:
        job = import_job_create(project=project, upload=upload, created_by=curator)
        indexed = wait_until(lambda: ImportJob.objects.get(pk=job.pk).search_indexed_at is not None)
        assert worker.poll() is None, "the worker exited early"
    try:
        assert indexed, "the worker did not build the import's search documents within a minute"
        assert len(found(project, "hypertension")) == 30
    finally:
        job.file.delete(save=False)
