"""The texts a HealthBench import brings into a project: a row's prompt_id names a project prompt only
when the row's prompt is that prompt's text, and every prompt and response it writes is scanned for PHI
once the import commits, as an import of items is."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from curation.models import ModelResponse, Prompt, Rubric, RubricGrade
from curation.models.phi import PhiFinding, PhiScanRun, PhiScanRunStatus
from curation.selectors.phi import phi_release_gate, phi_unscanned_prompts, phi_unscanned_responses
from curation.services.imports import import_file
from curation.services.rubric_imports import META_EVAL_MODEL
from tests.rubrics import healthbench_rows

PHONE = "Call Dr Patel's clinic on 617-555-0199 today."


def _write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _single_turn(row: dict, prompt_id: str, text: str) -> dict:
    return {**row, "prompt_id": prompt_id, "prompt": [{"role": "user", "content": text}]}


# -- PHI: the prompts and meta-eval responses an import writes are scanned after it commits ----------------


def test_the_prompts_and_meta_eval_responses_import_rubrics_writes_are_scanned_once_it_commits(
    project, tmp_path, django_capture_on_commit_callbacks
):
    meta = [row for row in healthbench_rows.meta_eval_rows() if row["prompt_id"] in ("hb-000", "hb-001")]
    meta[0]["completion"] = [{"role": "assistant", "content": PHONE}]
    source = _write(tmp_path / "healthbench.jsonl", healthbench_rows.rubric_rows()[:2] + meta)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_rubrics", str(source), "--project", project.slug)

    run = PhiScanRun.objects.get(project=project)
    assert (run.status, run.texts_total) == (PhiScanRunStatus.DONE, 2 + 4)  # two prompts, four completions
    assert not phi_unscanned_prompts(project=project).exists()
    assert not phi_unscanned_responses(project=project).exists()
    with_phone = ModelResponse.objects.get(model_name=META_EVAL_MODEL, text=PHONE)
    assert PhiFinding.objects.filter(response=with_phone, field="text").exists()
    releasable = ModelResponse.objects.filter(model_name=META_EVAL_MODEL).filter(*phi_release_gate("response"))
    assert set(releasable) == set(ModelResponse.objects.filter(model_name=META_EVAL_MODEL).exclude(pk=with_phone.pk))


def test_a_healthbench_file_uploaded_on_the_rubric_pages_is_scanned_once_it_commits(
    client, project, curator, django_capture_on_commit_callbacks
):
    rows = healthbench_rows.rubric_rows()[:1] + healthbench_rows.meta_eval_rows()[:2]
    text = "".join(json.dumps(r) + "\n" for r in rows)
    client.force_login(curator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("rubric_upload", args=[project.slug]),
            {"file": SimpleUploadedFile("healthbench.jsonl", text.encode("utf-8"))},
        )

    assert response.status_code == 302
    assert PhiScanRun.objects.get(project=project).texts_total == 3  # the prompt and its two completions
    assert not phi_unscanned_prompts(project=project).exists()
    assert not phi_unscanned_responses(project=project).exists()


def test_import_rubrics_says_what_it_imported_and_that_the_new_texts_scan_is_queued(project, tmp_path, capsys):
    call_command(
        "import_rubrics",
        str(_write(tmp_path / "one.jsonl", healthbench_rows.rubric_rows()[:1])),
        "--project",
        project.slug,
    )
    assert capsys.readouterr().out.splitlines() == [
        "Imported 1 rubric and 0 physician labels into cardio.",
        "The PHI scan of the 1 new text it wrote (prompts and completions) is queued; with no worker running, "
        "python manage.py phi_scan --project cardio scans them now. Nothing unscanned is released.",
    ]

    labels = [row for row in healthbench_rows.meta_eval_rows() if row["prompt_id"] == "hb-000"]
    call_command("import_rubrics", str(_write(tmp_path / "labels.jsonl", labels)), "--project", project.slug)
    assert capsys.readouterr().out.splitlines()[0] == "Imported 0 rubrics and 6 physician labels into cardio."


def test_an_import_that_writes_no_new_text_queues_no_scan(project, tmp_path, django_capture_on_commit_callbacks):
    rubrics = _write(tmp_path / "rubrics.jsonl", healthbench_rows.rubric_rows()[:1])
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_rubrics", str(rubrics), "--project", project.slug)
    labels = [row for row in healthbench_rows.meta_eval_rows() if row["prompt_id"] == "hb-000"]
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_rubrics", str(_write(tmp_path / "a.jsonl", labels[:1])), "--project", project.slug)
    runs = PhiScanRun.objects.count()

    # The same completion, labelled on another criterion: its response is already there and scanned.
    again = {**labels[0], "rubric": "Claims a false dose 0", "category": "axis:accuracy"}
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_rubrics", str(_write(tmp_path / "b.jsonl", [again])), "--project", project.slug)

    assert PhiScanRun.objects.count() == runs
    assert ModelResponse.objects.filter(model_name=META_EVAL_MODEL).count() == 1


# -- prompt_id and the prompt's text ---------------------------------------------------------------------


def test_a_rubric_row_for_a_project_prompt_with_the_same_text_is_attached_to_that_prompt(project, tmp_path, prompt):
    row = _single_turn(healthbench_rows.rubric_rows()[1], "chest-pain", "  I have chest pain. What do I do?\n")

    call_command("import_rubrics", str(_write(tmp_path / "r.jsonl", [row])), "--project", project.slug)

    assert Rubric.objects.get().prompt == prompt
    assert Prompt.objects.count() == 1


def test_a_rubric_row_whose_prompt_id_names_a_prompt_with_another_text_is_refused_and_nothing_imported(
    project, tmp_path, prompt
):
    other = _single_turn(healthbench_rows.rubric_rows()[1], "chest-pain", "My ankle is swollen after a fall.")
    source = _write(tmp_path / "r.jsonl", [healthbench_rows.rubric_rows()[0], other])

    with pytest.raises(CommandError) as refused:
        call_command("import_rubrics", str(source), "--project", project.slug)

    assert str(refused.value) == (
        f"{source}: line 2: prompt_id 'chest-pain' names a prompt of this project whose text differs from "
        "this row's prompt (project: 'I have chest pain. What do I do?'; row: 'My ankle is swollen after a "
        "fall.'); a rubric is graded against its own prompt: give the row its own prompt_id"
    )
    assert not Rubric.objects.exists()
    assert list(Prompt.objects.all()) == [prompt]


def test_a_refused_rubric_row_shows_the_start_of_long_texts(project, tmp_path, prompt):
    prompt.instruction = "I have chest pain. " + "It spreads to my left arm and jaw. " * 10
    prompt.save()
    other = _single_turn(healthbench_rows.rubric_rows()[1], "chest-pain", "I have chest pain. " + "And a cough. " * 20)

    with pytest.raises(CommandError) as refused:
        call_command("import_rubrics", str(_write(tmp_path / "r.jsonl", [other])), "--project", project.slug)

    # Sixty characters or so of each, cut after a whole word.
    message = str(refused.value)
    assert "(project: 'I have chest pain. It spreads to my left arm and jaw. It…'; " in message
    assert "; row: 'I have chest pain. And a cough. And a cough. And a cough.…')" in message


def test_a_meta_eval_row_whose_prompt_differs_from_its_rubrics_prompt_is_refused(project, tmp_path):
    call_command(
        "import_rubrics",
        str(_write(tmp_path / "rubrics.jsonl", healthbench_rows.rubric_rows()[:2])),
        "--project",
        project.slug,
    )
    label = next(row for row in healthbench_rows.meta_eval_rows() if row["prompt_id"] == "hb-001")
    label["prompt"] = [{"role": "user", "content": "Question 7: my child has a rash, what now?"}]
    source = _write(tmp_path / "labels.jsonl", [label])

    with pytest.raises(CommandError) as refused:
        call_command("import_rubrics", str(source), "--project", project.slug)

    assert str(refused.value) == (
        f"{source}: line 1: prompt_id 'hb-001' names a prompt of this project whose text differs from this row's "
        "prompt (project: 'Question 1: my child has a fever of 39 °C, what now?'; row: 'Question 7: my child has "
        "a rash, what now?'); its labels were given against another prompt: check the row's prompt_id"
    )

    assert not RubricGrade.objects.exists()
    assert not ModelResponse.objects.exists()


def test_a_prompt_import_rubrics_created_is_the_same_prompt_to_a_later_import_of_test_prompts(project, tmp_path):
    row = _single_turn(healthbench_rows.rubric_rows()[1], "chest-pain", "I have chest pain. What do I do?")
    call_command("import_rubrics", str(_write(tmp_path / "r.jsonl", [row])), "--project", project.slug)
    test_set = tmp_path / "test.jsonl"
    test_set.write_text(
        json.dumps({"id": "chest-pain", "instruction": "I have chest pain. What do I do?", "gpt-4-answer": "Call 911."})
        + "\n"
    )

    job = import_file(project=project, path=test_set, format="medinstruct_test")

    assert job.status == "succeeded", job.problems
    assert Prompt.objects.count() == 1
    assert ModelResponse.objects.get(model_name="gpt-4").prompt == Rubric.objects.get().prompt
