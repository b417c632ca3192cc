"""The upload page, the API and `import_items` share one import service; curators and admins only."""

import io
import json
from unittest.mock import patch

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from curation.management.commands import import_items
from curation.models import ImportJob, ImportStatus, SeedTask
from curation.selectors import seed_tasks as seed_task_selectors
from curation.services.imports import import_file
from tests.default_vocabulary import ensure_default_vocabulary

SEEDS = [
    {"topic": "Cardiology", "view": "Medical students", "type": "Rewrites", "instruction": f"Explain finding {n}.",
     "input": "<noinput>", "difficulty": str(1 + n % 5)}
    for n in range(12)
]  # fmt: skip


@pytest.fixture(autouse=True)
def default_vocabulary(db):
    ensure_default_vocabulary()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def good_file() -> bytes:
    return json.dumps(SEEDS).encode()


def bad_file() -> bytes:
    return json.dumps([*SEEDS[:3], {**SEEDS[3], "difficulty": "very hard"}]).encode()


# -- the page ------------------------------------------------------------------------------------


def upload_and_confirm(client, project, name: str, content: bytes, capture) -> str:
    """Upload on the page, read the preview, confirm: the address of the job's page."""
    response = client.post(reverse("import_list", args=[project.slug]), {"file": upload(name, content)})
    with capture(execute=True):
        client.post(response["Location"], {"confirm": "1"})
    return response["Location"]


def test_a_curator_uploads_a_file_sees_the_preview_confirms_and_reads_the_report(
    client, project, curator, django_capture_on_commit_callbacks
):
    client.force_login(curator)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("import_list", args=[project.slug]), {"file": upload("seed.json", good_file())})

    job = ImportJob.objects.get()
    assert response.status_code == 302 and not callbacks  # nothing queued before the person confirms
    assert response["Location"] == reverse("import_detail", args=[project.slug, job.pk])
    assert job.status == ImportStatus.PREVIEW and not SeedTask.objects.exists()
    preview = client.get(response["Location"]).content.decode()
    assert "Waiting for confirmation" in preview and "alpacare_seed" in preview
    assert "<td>Explain finding 0.</td>" in preview and "Explain finding 5." not in preview  # the first 5 only

    with django_capture_on_commit_callbacks(execute=True):
        client.post(response["Location"], {"confirm": "1"})

    job.refresh_from_db()
    assert job.status == ImportStatus.SUCCEEDED and job.created_by == curator
    page = client.get(response["Location"]).content.decode()
    assert "12 records validated, 12 written" in page
    assert "Values with no vocabulary term yet" in page and "Cardiology (12)" in page


def test_the_progress_fragment_polls_while_running_and_stops_when_done(client, project, curator):
    job = ImportJob.objects.create(
        project=project, file_name="big.jsonl", status=ImportStatus.VALIDATING, records_validated=4000
    )
    client.force_login(curator)
    url = reverse("import_detail", args=[project.slug, job.pk])

    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()

    assert "<html" not in fragment and 'id="import-progress"' in fragment
    assert 'hx-trigger="every 1s"' in fragment and f'href="{url}"' in fragment
    assert "4,000 records validated" in fragment

    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.WRITING, records_total=5000, records_written=2000)
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert '<progress max="5000" value="2000"' in fragment and "2,000 of 5,000" in fragment

    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.SUCCEEDED, records_written=5000)
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in fragment


def test_a_bad_file_shows_its_problems_with_line_numbers_and_writes_nothing(
    client, project, curator, django_capture_on_commit_callbacks
):
    client.force_login(curator)
    location = upload_and_confirm(client, project, "seed.json", bad_file(), django_capture_on_commit_callbacks)

    page = client.get(location).content.decode()
    assert "Nothing was written." in page
    assert "<td>record 4 (line 1)</td><td>difficulty</td><td>unknown difficulty &#x27;very hard&#x27;" in page
    assert not SeedTask.objects.exists()


def test_a_file_over_the_limit_is_refused_on_the_form(client, project, curator, settings):
    settings.CONCORD_IMPORT_MAX_BYTES = 100
    client.force_login(curator)
    response = client.post(reverse("import_list", args=[project.slug]), {"file": upload("seed.json", good_file())})
    assert response.status_code == 400
    assert "CONCORD_IMPORT_MAX_BYTES" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_an_upload_far_over_the_limit_is_refused_before_it_is_stored(client, project, curator, settings):
    settings.CONCORD_IMPORT_MAX_BYTES = 1000
    client.force_login(curator)
    big = upload("seed.json", b" " * 200_000 + good_file())

    page = client.post(reverse("import_list", args=[project.slug]), {"file": big})
    big.seek(0)
    api = client.post(reverse("api_import_list", args=[project.slug]), {"file": big})

    assert page.status_code == 413 and "CONCORD_IMPORT_MAX_BYTES" in page.content.decode()
    assert api.status_code == 413 and "CONCORD_IMPORT_MAX_BYTES" in api.json()["file"][0]
    assert not ImportJob.objects.exists()


def test_user_text_in_a_report_is_escaped(client, project, curator, tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps([{**SEEDS[0], "view": "<script>alert(1)</script>"}]))
    job = import_file(project=project, path=path, created_by=curator)
    client.force_login(curator)
    page = client.get(reverse("import_detail", args=[project.slug, job.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_import_pages_cost_the_same_queries_however_many_jobs_and_terms(client, project, curator, tmp_path):
    client.force_login(curator)
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(SEEDS[:2]))
    import_file(project=project, path=path, created_by=curator)
    few = {name: _queries(client, reverse(name, args=[project.slug])) for name in ("import_list", "vocabulary")}
    path.write_text(json.dumps(SEEDS))
    import_file(project=project, path=path, created_by=curator)
    for n in range(5):
        ImportJob.objects.create(project=project, file_name=f"f{n}.json", created_by=curator)
    from curation.services.vocabulary import vocabulary_map_raw

    vocabulary_map_raw(kind="topic", raw="Cardiology", term=None)
    assert {name: _queries(client, reverse(name, args=[project.slug])) for name in few} == few


# -- the vocabulary page ------------------------------------------------------------------------


def test_a_curator_maps_an_unmapped_view_and_every_task_using_it_is_relinked(client, project, curator, tmp_path):
    path = tmp_path / "seed.json"
    path.write_text(json.dumps([{**s, "view": "Radiologist"} for s in SEEDS[:3]]))
    import_file(project=project, path=path, created_by=curator)
    client.force_login(curator)
    page = client.get(reverse("vocabulary", args=[project.slug])).content.decode()
    assert "Radiologist" in page

    from curation.models import VocabularyTerm

    physician = VocabularyTerm.objects.get(kind="view", name="Physician")
    response = client.post(
        reverse("vocabulary_map", args=[project.slug]), {"kind": "view", "raw": "Radiologist", "term": physician.pk}
    )

    assert response.status_code == 302
    assert set(SeedTask.objects.values_list("view__name", flat=True)) == {"Physician"}
    assert "“Radiologist” now means Physician; 3 task(s) relinked." in client.get(response["Location"]).content.decode()


def test_merging_a_term_relinks_its_tasks_and_keeps_its_spelling_as_an_alias(client, project, curator, tmp_path):
    from curation.models import VocabularyTerm
    from curation.services.vocabulary import vocabulary_resolve

    path = tmp_path / "seed.json"
    path.write_text(json.dumps([{**s, "view": "Expert Clinician"} for s in SEEDS[:2]]))
    import_file(project=project, path=path, created_by=curator)
    source = VocabularyTerm.objects.get(kind="view", name="Expert Clinician")
    target = VocabularyTerm.objects.get(kind="view", name="Clinician")
    client.force_login(curator)

    client.post(reverse("vocabulary_merge", args=[project.slug]), {"source": source.pk, "target": target.pk})

    assert not VocabularyTerm.objects.filter(pk=source.pk).exists()
    assert set(SeedTask.objects.values_list("view_id", flat=True)) == {target.pk}
    assert vocabulary_resolve(kind="view", raw="expert clinicians") == target


def test_merging_terms_of_different_kinds_changes_nothing(client, project, curator):
    from curation.models import VocabularyTerm

    view = VocabularyTerm.objects.get(kind="view", name="Physician")
    task_type = VocabularyTerm.objects.get(kind="task_type", name="Rewrite")
    client.force_login(curator)
    response = client.post(
        reverse("vocabulary_merge", args=[project.slug]), {"source": view.pk, "target": task_type.pk}
    )
    assert "Nothing merged" in client.get(response["Location"]).content.decode()
    assert VocabularyTerm.objects.filter(pk=view.pk).exists()


# -- the API ------------------------------------------------------------------------------------


def test_the_api_creates_an_import_job_from_an_upload_and_reports_it(
    client, project, curator, django_capture_on_commit_callbacks
):
    client.force_login(curator)
    url = reverse("api_import_list", args=[project.slug])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"file": upload("seed.json", good_file()), "format": "alpacare_seed"})
    assert response.status_code == 202
    created = response.json()
    assert created["status"] == "queued" and created["file_name"] == "seed.json"

    body = client.get(reverse("api_import_detail", args=[project.slug, created["id"]])).json()
    assert body["status"] == "succeeded"
    assert (body["records_validated"], body["records_written"], body["problem_count"]) == (12, 12, 0)
    assert body["report"]["created"] == {"seed_tasks": 12}
    assert [job["id"] for job in client.get(url).json()] == [created["id"]]


def test_the_api_reports_problems_with_their_line(client, project, admin_user, django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            reverse("api_import_list", args=[project.slug]), {"file": upload("seed.json", bad_file())}
        ).json()
    body = client.get(created["url"]).json()
    assert body["status"] == "failed"
    reason = "unknown difficulty 'very hard': use 1 (easiest) to 5 (hardest)"
    assert body["problems"] == [{"line": 4, "unit": "record", "file_line": 1, "field": "difficulty", "reason": reason}]


def test_the_api_refuses_a_bad_format_and_members_who_are_not_curators(client, project, curator, clinician):
    url = reverse("api_import_list", args=[project.slug])
    client.force_login(curator)
    response = client.post(url, {"file": upload("seed.json", good_file()), "format": "yaml"})
    assert response.status_code == 400 and "format" in response.json()
    client.force_login(clinician)
    assert client.post(url, {"file": upload("seed.json", good_file())}).status_code == 403
    assert not ImportJob.objects.exists()


def test_the_openapi_schema_describes_the_import_endpoints(client, curator):
    client.force_login(curator)
    schema = client.get(reverse("api_schema"), {"format": "json"}).json()
    post = schema["paths"]["/api/v1/projects/{slug}/imports/"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert "ImportJobOut" in json.dumps(post["responses"]["202"])


# -- the CLI ------------------------------------------------------------------------------------


def test_the_cli_imports_a_file_and_prints_the_report(project, tmp_path, capsys):
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(SEEDS))

    call_command("import_items", str(path), "--project", project.slug)

    out = capsys.readouterr().out
    assert "seed.json (alpacare_seed): Imported" in out and "created: 12 seed tasks" in out
    assert SeedTask.objects.filter(project=project).count() == 12
    call_command("import_items", str(path), "--project", project.slug)
    assert "already imported into the project" in capsys.readouterr().out


def test_the_cli_lists_problems_and_fails(project, tmp_path, capsys):
    path = tmp_path / "seed.json"
    path.write_bytes(bad_file())

    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_items", str(path), "--project", project.slug)

    assert "1 record: difficulty: unknown difficulty 'very hard'" in capsys.readouterr().out
    assert not SeedTask.objects.exists()


def test_the_cli_names_a_missing_project_or_file(project, tmp_path):
    with pytest.raises(CommandError, match="No project with slug 'nope'"):
        call_command("import_items", str(tmp_path / "x.json"), "--project", "nope")
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_items", str(tmp_path / "x.json"), "--project", project.slug)


def _import_2500_tasks(project, tmp_path, stderr: io.StringIO) -> str:
    """Import 2,500 tasks with the command, its progress written to `stderr`: what it wrote there."""
    path = tmp_path / "many.json"
    path.write_text(json.dumps([{"instruction": f"Explain finding {n}.", "output": "."} for n in range(2500)]))
    call_command("import_items", str(path), "--project", project.slug, stderr=stderr, stdout=io.StringIO())
    return stderr.getvalue()


def _import_logging_progress(project, tmp_path) -> list[str]:
    """The progress lines of an import of 2,500 tasks, stderr not a terminal."""
    written = _import_2500_tasks(project, tmp_path, io.StringIO())
    assert "\r" not in written and written.endswith("\n")
    return written.splitlines()


def test_the_cli_writes_each_progress_update_on_its_own_line_where_stderr_is_not_a_terminal(
    project, tmp_path, monkeypatch
):
    monkeypatch.setattr(import_items, "LOG_PROGRESS_SECONDS", 0)

    lines = _import_logging_progress(project, tmp_path)

    validated = [line for line in lines if line.startswith("validated ")]
    assert {"validated 1,000 records", "validated 2,000 records"} <= set(validated)
    assert validated[-1] == "validated 2,500 records"
    written = lines[len(validated) :]
    assert written[0] == "written 0 of 2,500 records" and written[-1] == "written 2,500 of 2,500 records"
    assert all(line.startswith("written ") and line.endswith(" of 2,500 records") for line in written)


def test_the_cli_logs_only_each_phases_first_and_last_count_within_the_log_interval(project, tmp_path, monkeypatch):
    monkeypatch.setattr(import_items, "LOG_PROGRESS_SECONDS", 3600)

    lines = _import_logging_progress(project, tmp_path)

    assert lines[0].startswith("validated ")  # the first update, whichever record it came at
    assert lines[1:] == [
        "validated 2,500 records",
        "written 0 of 2,500 records",
        "written 2,500 of 2,500 records",
    ]


def test_the_cli_rewrites_one_progress_line_per_phase_on_a_terminal(project, tmp_path):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    validating, writing, end = _import_2500_tasks(project, tmp_path, Terminal()).split("\n")
    assert validating.startswith("\rvalidated ") and "\rvalidated 1,000 records\r" in validating
    assert validating.endswith("\rvalidated 2,500 records")
    assert writing.startswith("\rwritten 0 of 2,500 records") and writing.endswith("\rwritten 2,500 of 2,500 records")
    assert end == ""


@pytest.mark.parametrize("documents", [True, False], ids=["search-documents", "search-reads-tasks"])
def test_the_cli_says_what_is_left_for_the_worker_and_how_to_do_it_without_one(
    project, tmp_path, capsys, monkeypatch, django_capture_on_commit_callbacks, documents
):
    monkeypatch.setattr(seed_task_selectors, "searches_documents", lambda: documents)
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(SEEDS))

    with (
        patch("curation.jobs.phi_scan_task.delay"),
        patch("curation.jobs.seed_task_search_task.delay"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        call_command("import_items", str(path), "--project", project.slug)

    out = capsys.readouterr().out
    assert f"with no worker running: python manage.py phi_scan --project {project.slug}" in out
    assert (f"python manage.py search_index --project {project.slug}" in out) is documents
