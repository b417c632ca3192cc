"""Many files at once: a folder or a zip, each file read by its shape, one all-or-nothing decision for all."""

import io
import json
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from curation.models import ImportJob, ImportStatus, ModelResponse, Prompt
from curation.services.imports import import_file

QUESTIONS = ["What is sepsis?", "What is gout?", "What is asthma?"]


def outputs(model: str) -> bytes:
    records = [
        {"id": n, "instruction": q, "response": f"{model} says {n}.", "raw_output": f"raw {n}"}
        for n, q in enumerate(QUESTIONS)
    ]
    return json.dumps(records, indent=1).encode()


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def model_runs() -> dict[str, bytes]:
    return {
        "runs/alpaca-7b/iCliniq/seed_0.json": outputs("alpaca"),
        "runs/medgen-13b/iCliniq/seed_0.json": outputs("medgen"),
        "runs/medgen-13b/iCliniq/.ipynb_checkpoints/seed_0-checkpoint.json": outputs("medgen"),
        "runs/README.md": b"notes",
    }


def test_a_folder_of_runs_names_each_model_by_its_directory_and_leaves_checkpoint_copies_out(project, tmp_path):
    for name, data in model_runs().items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)

    job = import_file(project=project, path=tmp_path / "runs")

    assert job.status == ImportStatus.SUCCEEDED, job.problems
    assert job.report["models"] == ["alpaca-7b", "medgen-13b"]
    rows = {row["name"]: (row["format"], row["model"], row["created"]) for row in job.report["files"]}
    assert rows == {
        "runs/alpaca-7b/iCliniq/seed_0.json": ("outputs_with_prompts", "alpaca-7b", {"prompts": 3, "responses": 3}),
        "runs/medgen-13b/iCliniq/seed_0.json": ("outputs_with_prompts", "medgen-13b", {"prompts": 0, "responses": 3}),
    }
    checkpoint = "runs/medgen-13b/iCliniq/.ipynb_checkpoints/seed_0-checkpoint.json"
    assert {left["name"]: left["reason"] for left in job.report["left_out"]} == {
        checkpoint: "a notebook's checkpoint copy of another file",
        "runs/README.md": "not a .json, .jsonl or .csv file",
    }
    assert Prompt.objects.count() == 3
    assert ModelResponse.objects.get(model_name="medgen-13b", prompt__instruction="What is gout?").text == (
        "medgen says 1."
    )


def test_one_bad_file_in_a_zip_writes_nothing_from_any_file(project, tmp_path):
    members = model_runs()
    members["runs/broken/iCliniq/seed_0.json"] = b'[\n {"id": 1, "instruction": "Q?", "response": 5}\n]'
    path = tmp_path / "runs.zip"
    path.write_bytes(zipped(members))

    job = import_file(project=project, path=path)

    assert job.status == ImportStatus.FAILED
    assert job.problems == [
        {
            "line": 1,
            "unit": "record",
            "file_line": 2,
            "field": "response",
            "reason": "must be text, found a number",
            "file": "runs/broken/iCliniq/seed_0.json",
        }
    ]
    assert not Prompt.objects.exists() and not ModelResponse.objects.exists()


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"../evil.json": b"[]"}, "points outside the zip"),
        ({"/etc/evil.json": b"[]"}, "points outside the zip"),
        ({f"m{n}.json": b"[]" for n in range(6)}, "holds 6 files; at most 5"),
        ({"bomb.json": b"[" + b" " * 200_000 + b"]"}, "expands more than the zip limits allow"),
    ],
)
def test_an_unsafe_zip_is_refused_before_any_file_is_read(project, tmp_path, settings, members, message):
    settings.CONCORD_IMPORT_ZIP_MAX_MEMBERS = 5
    settings.CONCORD_IMPORT_ZIP_MAX_RATIO = 50
    path = tmp_path / "upload.zip"
    path.write_bytes(zipped(members))

    job = import_file(project=project, path=path)

    assert job.status == ImportStatus.FAILED and message in job.problems[0]["reason"]
    assert not tmp_path.parent.joinpath("evil.json").exists()


def test_a_curator_uploads_a_zip_sees_every_file_in_the_preview_and_imports_them_together(
    client, project, curator, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(curator)
    upload = SimpleUploadedFile("runs.zip", zipped(model_runs()))
    response = client.post(reverse("import_list", args=[project.slug]), {"file": upload})

    preview = client.get(response["Location"]).content.decode()
    assert "runs/alpaca-7b/iCliniq/seed_0.json" in preview and "runs/medgen-13b/iCliniq/seed_0.json" in preview
    assert 'alpaca-7b <span class="muted">(from the path)</span>' in preview
    assert "left out: a notebook&#x27;s checkpoint copy of another file" in preview
    assert "<td>alpaca says 0.</td>" in preview

    with django_capture_on_commit_callbacks(execute=True):
        client.post(response["Location"], {"confirm": "1"})

    job = ImportJob.objects.get()
    assert job.status == ImportStatus.SUCCEEDED, job.problems
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="import-files"' in page and "alpaca-7b, medgen-13b" in page
    assert ModelResponse.objects.filter(import_job=job).count() == 6
    # Each file's count of what it created, named as the command line names it.
    created = re.findall(r"<td>([^<]*(?:prompt|response)[^<]*)</td></tr>", page)
    assert created == ["3 prompts, 3 responses", "0 prompts, 3 responses"]


def test_the_api_previews_then_imports_on_confirm_with_the_same_rules_as_the_page(
    client, project, curator, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(curator)
    body = json.dumps([{"instruction": "Define fever.", "output": "High temperature.", "ouptut": "typo"}]).encode()
    url = reverse("api_import_list", args=[project.slug])

    created = client.post(url, {"file": SimpleUploadedFile("d.json", body), "preview": "true"}).json()
    assert created["status"] == "preview"
    assert created["report"]["preview"]["files"][0]["unknown_fields"] == ["ouptut"]

    confirm = reverse("api_import_confirm", args=[project.slug, created["id"]])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(confirm, {}, content_type="application/json")
    refused = client.get(created["url"]).json()
    assert refused["status"] == "failed" and refused["problems"][0]["field"] == "ouptut"

    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(url, {"file": SimpleUploadedFile("d.json", body), "accept_unknown_fields": "true"})
    assert client.get(again.json()["url"]).json()["status"] == "succeeded"
    assert client.post(confirm, {}, content_type="application/json").status_code == 400  # no longer waiting


def test_the_cli_reads_a_mapping_refuses_unknown_fields_under_strict_and_previews_without_writing(
    project, tmp_path, capsys
):
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps({"question": "What is a stroke?", "answer": "A brain attack.", "src": "x"}) + "\n")

    call_command(
        "import_items", str(path), "--project", project.slug, "--map", "instruction=question,output=answer", "--preview"
    )
    shown = capsys.readouterr().out
    assert "train.jsonl: alpaca" in shown and "fields that would not be stored: src" in shown
    assert "Nothing was written" in shown and not Prompt.objects.exists()

    with pytest.raises(CommandError, match="nothing was written"):
        call_command(
            "import_items",
            str(path),
            "--project",
            project.slug,
            "--map",
            "instruction=question,output=answer",
            "--strict",
        )
    assert "1 record: src: unknown field for the alpaca format; it would not be stored; first at line 1" in (
        capsys.readouterr().out
    )

    call_command("import_items", str(path), "--project", project.slug, "--map", "instruction=question,output=answer")
    out = capsys.readouterr().out
    assert "created: 1 seed task\n" in out and "warning: train.jsonl: field 'src' in 1 record " in out

    with pytest.raises(CommandError, match="Column mapping: 'question' is not field=column"):
        call_command("import_items", str(path), "--project", project.slug, "--map", "question")
