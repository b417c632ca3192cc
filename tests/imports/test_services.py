"""The import service on well-formed files of every format: what it writes, skips and records."""

import json

import pytest

from curation.models import ImportJob, ImportStatus, ModelResponse, SeedTask, TaskSource
from curation.services.imports import import_file, import_job_run, import_options, storage
from tests.default_vocabulary import ensure_default_vocabulary
from tests.factories import PromptFactory


@pytest.fixture(autouse=True)
def default_vocabulary(db):
    ensure_default_vocabulary()


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_alpaca_jsonl_becomes_seed_tasks_with_reference_outputs_and_their_lines(project, curator, tmp_path):
    lines = [
        {"instruction": "Define sepsis.", "input": "", "output": "A dysregulated response to infection."},
        {"instruction": "Define shock.", "output": "Circulatory failure.", "type": "Open QA", "difficulty": 2},
    ]
    path = write(tmp_path, "data.jsonl", "\n".join(json.dumps(line) for line in lines) + "\n\n")

    job = import_file(project=project, path=path, created_by=curator)

    assert job.format == "alpaca" and job.status == ImportStatus.SUCCEEDED
    shock = SeedTask.objects.get(instruction="Define shock.")
    assert (shock.reference_output, shock.difficulty, shock.task_type.name) == ("Circulatory failure.", 2, "Open Q&A")
    assert (shock.origin_line, shock.source, shock.created_by) == (2, TaskSource.IMPORTED, curator)
    assert shock.history.get().history_change_reason == "imported from data.jsonl"


def test_an_alpaca_json_array_is_read_as_well(project, tmp_path):
    path = write(
        tmp_path, "data.json", json.dumps([{"instruction": "Define gout.", "input": "", "output": "Arthritis."}])
    )
    job = import_file(project=project, path=path, format="alpaca")
    assert job.status == ImportStatus.SUCCEEDED and SeedTask.objects.get().origin_line == 1


def test_a_chat_becomes_a_task_with_the_earlier_turns_as_input(project, tmp_path):
    chat = {
        "messages": [
            {"role": "system", "content": "You are a careful clinician."},
            {"role": "user", "content": "My ankle is swollen after a fall."},
            {"role": "assistant", "content": "Can you bear weight on it?"},
            {"role": "user", "content": "Barely."},
            {"role": "assistant", "content": "Get an X-ray today (Ottawa ankle rules)."},
        ],
        "topic": "Orthopaedics",
    }
    job = import_file(project=project, path=write(tmp_path, "chats.jsonl", json.dumps(chat) + "\n"))

    assert job.format == "chat"
    task = SeedTask.objects.get()
    assert task.instruction == "My ankle is swollen after a fall."
    assert (
        task.input == "system: You are a careful clinician.\n\nassistant: Can you bear weight on it?\n\nuser: Barely."
    )
    assert task.reference_output == "Get an X-ray today (Ottawa ankle rules)."


def test_csv_rows_keep_the_line_they_start_on_even_after_a_multiline_cell(project, tmp_path):
    text = 'instruction,input,output,difficulty\n"Summarise:\nline two",,Short.,1\nDefine angina.,,Chest pain.,\n'
    job = import_file(project=project, path=write(tmp_path, "tasks.csv", text))

    assert job.status == ImportStatus.SUCCEEDED, job.problems
    assert dict(SeedTask.objects.values_list("instruction", "origin_line")) == {
        "Summarise:\nline two": 2,
        "Define angina.": 4,
    }
    assert SeedTask.objects.get(origin_line=4).difficulty is None


def test_records_already_in_the_project_are_skipped_and_counted(project, tmp_path):
    first = write(tmp_path, "a.jsonl", json.dumps({"instruction": "Define sepsis.", "output": "x"}) + "\n")
    import_file(project=project, path=first)
    records = [{"instruction": "Define sepsis.", "output": "x"}, {"instruction": "Define shock.", "output": "y"}]
    second = write(tmp_path, "b.jsonl", "\n".join(json.dumps(r) for r in records * 2) + "\n")

    job = import_file(project=project, path=second)

    assert (job.records_written, job.records_skipped) == (1, 3)
    assert job.report["skipped"] == {"seed_tasks": 3}
    assert SeedTask.objects.count() == 2


def test_model_outputs_take_the_model_from_the_option_or_the_file_name(project, tmp_path):
    PromptFactory(project=project, external_id="7", instruction="What is asthma?", input="")
    outputs = [
        {"id": 7, "instruction": "What is asthma?", "raw_output": "### Response: A disease.", "response": "A disease."}
    ]
    path = write(tmp_path, "medgen-7b.json", json.dumps(outputs))

    assert import_file(project=project, path=path).model_name == "medgen-7b"
    path = write(tmp_path, "other.json", json.dumps([{**outputs[0], "response": "Airway inflammation."}]))
    assert import_file(project=project, path=path, model_name="medgen-13b").model_name == "medgen-13b"

    assert set(ModelResponse.objects.values_list("model_name", "text")) == {
        ("medgen-7b", "A disease."),
        ("medgen-13b", "Airway inflammation."),
    }


def test_an_internal_error_while_writing_leaves_nothing_and_says_so(project, tmp_path, monkeypatch):
    path = write(
        tmp_path, "a.jsonl", "".join(json.dumps({"instruction": f"Q{i}", "output": "A"}) + "\n" for i in range(30))
    )
    monkeypatch.setattr(storage, "BATCH_SIZE", 10)
    calls = []

    def fail_on_the_second_batch(self, model, rows):
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return original(self, model, rows)

    original = storage.Inserter.insert
    monkeypatch.setattr(storage.Inserter, "insert", fail_on_the_second_batch)

    job = import_file(project=project, path=path)

    assert job.status == ImportStatus.ERROR and job.report["error"] == "RuntimeError: disk full"
    assert not SeedTask.objects.exists()


def test_running_a_job_twice_does_nothing_the_second_time(project, tmp_path):
    path = write(tmp_path, "a.jsonl", json.dumps({"instruction": "Define sepsis.", "output": "x"}) + "\n")
    job = import_file(project=project, path=path)

    again = import_job_run(job_id=job.pk, path=path)

    assert again.status == ImportStatus.SUCCEEDED and SeedTask.objects.count() == 1


@pytest.mark.parametrize("status", [ImportStatus.VALIDATING, ImportStatus.FAILED])
def test_a_job_that_is_not_queued_is_left_alone(project, tmp_path, status):
    job = ImportJob.objects.create(project=project, file_name="x.json", status=status)
    assert import_job_run(job_id=job.pk, path=tmp_path / "missing.json").status == status


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("view", "Medical students"),
        ("view", "Patient\u2019s Perspective"),
        ("task_type", "Rewrites"),
        ("view", "Radiologist"),
    ],
)
def test_the_bulk_vocabulary_index_resolves_like_vocabulary_resolve(kind, raw):
    from curation.services.vocabulary import vocabulary_index, vocabulary_resolve
    from curation.text.vocabulary import normalise_key

    term = vocabulary_resolve(kind=kind, raw=raw)
    assert vocabulary_index().get((kind, normalise_key(raw))) == (term.pk if term else None)


def test_the_same_answers_under_another_model_name_are_refused_unless_allowed(project, tmp_path):
    PromptFactory(project=project, external_id="7", instruction="What is asthma?", input="")
    outputs = [{"id": 7, "instruction": "What is asthma?", "raw_output": "", "response": "A disease."}]
    path = write(tmp_path, "outputs.json", json.dumps(outputs))

    first = import_file(project=project, path=path, model_name="medgen-7b")
    again = import_file(project=project, path=path, model_name="medgen-7b")
    other = import_file(project=project, path=path, model_name="medgen-13b")
    allowed = import_file(
        project=project, path=path, model_name="medgen-13b", options=import_options(allow_duplicate_answers=True)
    )

    assert (first.status, again.status, other.status, allowed.status) == (
        "succeeded",
        "duplicate",
        "failed",
        "succeeded",
    )
    assert again.report["duplicate_of"] == first.pk
    assert "already in the project, word for word, as the answers of medgen-7b" in other.problems[0]["reason"]
    assert "--allow-duplicate-answers" in other.problems[0]["reason"]
    assert sorted(ModelResponse.objects.values_list("model_name", flat=True)) == ["medgen-13b", "medgen-7b"]
