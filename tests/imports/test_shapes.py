"""Files are read by the shape of their records: each shape of real evaluation data imports without losing a field."""

import json

import pytest

from curation.models import ImportStatus, ModelResponse, Prompt, SeedTask
from curation.services.imports import import_file, import_options
from tests.data import MODEL_OUTPUTS_DIR, TEST_SET
from tests.factories import PromptFactory
from tests.markers import needs_alpacare


def write(tmp_path, name: str, records: list[dict], *, lines: bool = False):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if lines:
        path.write_text("".join(json.dumps(record) + "\n" for record in records))
    else:
        path.write_text(json.dumps(records, indent=2))
    return path


def answers(model_name: str) -> dict[str, str]:
    return {
        r.prompt.instruction: r.text
        for r in ModelResponse.objects.filter(model_name=model_name).select_related("prompt")
    }


def test_model_outputs_that_carry_their_prompts_create_the_prompts_and_attach_the_answers(project, tmp_path):
    records = [
        {"id": 0, "instruction": "What is sepsis?", "response": "An infection response.", "raw_output": "### sepsis"},
        {"id": 1, "instruction": "Summarise:", "input": "BP 90/60.", "response": "Low BP.", "raw_output": "raw"},
    ]
    path = write(tmp_path, "medgen-7b/iCliniq/seed_0.json", records)

    job = import_file(project=project, path=path)

    assert job.status == ImportStatus.SUCCEEDED, job.problems
    assert (job.format, job.model_name) == ("outputs_with_prompts", "medgen-7b")
    assert job.report["created"] == {"prompts": 2, "responses": 2}
    assert job.report["files"][0]["model_from"] == "the path"
    assert answers("medgen-7b") == {"What is sepsis?": "An infection response.", "Summarise:": "Low BP."}
    assert Prompt.objects.get(instruction="Summarise:").input == "BP 90/60."
    assert ModelResponse.objects.get(text="Low BP.").raw_output == "raw"


def test_outputs_with_prompts_match_existing_prompts_by_content_and_name_the_model_from_their_generator(
    project, tmp_path
):
    existing = PromptFactory(project=project, external_id="q-9", instruction="What is asthma?", input="")
    records = [
        {"id": 0, "instruction": "What is asthma?", "response": "A disease.", "generator": "medgen-13b"},
        {"id": 1, "instruction": "What is gout?", "response": "Arthritis.", "generator": "medgen-13b"},
    ]
    job = import_file(project=project, path=write(tmp_path, "outputs/seed_0.jsonl", records, lines=True))

    assert job.status == ImportStatus.SUCCEEDED, job.problems
    assert job.report["files"][0]["model_from"] == "the records"
    assert job.report["models"] == ["medgen-13b"]
    assert job.report["created"] == {"prompts": 1, "responses": 2}
    assert job.report["matched"] == {"prompts": 1}
    assert ModelResponse.objects.get(text="A disease.").prompt == existing
    assert Prompt.objects.filter(project=project).count() == 2


def test_alpaca_eval_files_keep_the_reference_under_its_generator_and_the_answer_under_the_model(project, tmp_path):
    records = [
        {
            "dataset": "helpful_base",
            "instruction": "How do I treat a burn?",
            "output": "Cool it under running water.",
            "generator": "gpt4_1106_preview",
            "response": "Put ice on it.",
        }
    ]
    job = import_file(project=project, path=write(tmp_path, "alpaca-7b.json", records))

    assert job.status == ImportStatus.SUCCEEDED, job.problems
    assert job.format == "alpaca_eval" and job.report["models"] == ["alpaca-7b", "gpt4_1106_preview"]
    assert answers("gpt4_1106_preview") == {"How do I treat a burn?": "Cool it under running water."}
    assert answers("alpaca-7b") == {"How do I treat a burn?": "Put ice on it."}


def test_prompt_response_pairs_split_human_and_assistant_turns_into_a_chat_prompt(project, tmp_path):
    records = [
        {
            "prompt": "Human: I have a headache.\n\nAssistant: Since when?\n\nHuman: Two days. What should I do?"
            "\n\nAssistant:",
            "response": "See a doctor if it persists.",
        }
    ]
    job = import_file(project=project, path=write(tmp_path, "pairs.jsonl", records, lines=True), model_name="m1")

    assert job.status == ImportStatus.SUCCEEDED, job.problems
    prompt = Prompt.objects.get()
    assert prompt.instruction == "Two days. What should I do?"
    assert prompt.input == "Human: I have a headache.\n\nAssistant: Since when?"
    assert answers("m1") == {"Two days. What should I do?": "See a doctor if it persists."}


def test_alpaca_with_an_empty_instruction_takes_the_input_as_the_prompt(project, tmp_path):
    records = [{"instruction": "", "input": "What causes anaemia?", "output": "Low haemoglobin."}]
    job = import_file(project=project, path=write(tmp_path, "data.json", records))

    assert job.status == ImportStatus.SUCCEEDED, job.problems
    task = SeedTask.objects.get()
    assert (task.instruction, task.input, task.reference_output) == ("What causes anaemia?", "", "Low haemoglobin.")


def test_a_hugging_face_export_is_read_under_the_column_mapping_the_user_gives(project, tmp_path):
    records = [{"question": "What is a stroke?", "answer": "A brain attack.", "source": "medqa"}]
    path = write(tmp_path, "train.jsonl", records, lines=True)

    unmapped = import_file(project=project, path=path)
    mapped = import_file(
        project=project,
        path=path,
        options=import_options(mapping="instruction=question,output=answer", accept_unknown_fields=True),
    )

    assert unmapped.status == ImportStatus.FAILED
    assert "--map instruction=question,output=answer" in unmapped.problems[0]["reason"]
    assert mapped.status == ImportStatus.SUCCEEDED, mapped.problems
    assert SeedTask.objects.get().reference_output == "A brain attack."
    assert mapped.report["unknown_fields"] == [
        {"file": "train.jsonl", "field": "source", "records": 1, "first_line": 1}
    ]


def test_openai_style_messages_become_a_seed_task(project, tmp_path):
    records = [
        {
            "messages": [
                {"role": "system", "content": "You are a nurse."},
                {"role": "user", "content": "How much water a day?"},
                {"role": "assistant", "content": "About two litres."},
            ]
        }
    ]
    job = import_file(project=project, path=write(tmp_path, "chat.jsonl", records, lines=True))

    assert job.status == ImportStatus.SUCCEEDED, job.problems
    task = SeedTask.objects.get()
    assert (task.instruction, task.input, task.reference_output) == (
        "How much water a day?",
        "system: You are a nurse.",
        "About two litres.",
    )


def test_a_misspelt_field_is_listed_and_refused_unless_accepted(project, tmp_path):
    records = [{"instruction": "Define fever.", "output": "High temperature.", "ouptut": "typo"}]
    path = write(tmp_path, "data.json", records)

    strict = import_file(project=project, path=path, options=import_options())
    accepted = import_file(project=project, path=path, options=import_options(accept_unknown_fields=True))

    assert strict.status == ImportStatus.FAILED
    (problem,) = strict.problems
    assert (problem["field"], problem["unit"], problem["line"], problem["file_line"]) == ("ouptut", "record", 1, 2)
    assert problem["reason"] == "unknown field for the alpaca format; it would not be stored"
    assert accepted.status == ImportStatus.SUCCEEDED
    assert accepted.report["unknown_fields"][0]["field"] == "ouptut"


@pytest.mark.parametrize("lines", [False, True])
def test_a_duplicate_key_is_an_error_naming_its_line(project, tmp_path, lines):
    path = tmp_path / ("data.jsonl" if lines else "data.json")
    body = '{"instruction": "A?", "output": "x"}\n{"instruction": "B?", "output": "y", "output": "z"}\n'
    path.write_text(body if lines else "[\n" + body.replace("}\n{", "},\n{") + "]\n")

    job = import_file(project=project, path=path)

    assert job.status == ImportStatus.FAILED and SeedTask.objects.count() == 0
    problem = job.problems[0]
    assert problem["field"] == "output" and "appears twice" in problem["reason"]
    assert (problem.get("file_line") or problem["line"]) == (2 if lines else 3)


def test_identical_problems_are_grouped_with_the_next_step(project, tmp_path):
    PromptFactory(project=project, external_id="other", instruction="Unrelated?", input="")
    records = [{"id": n, "instruction": f"Q{n}?", "raw_output": "", "response": "A."} for n in range(150)]
    path = write(tmp_path, "m.json", records)

    job = import_file(project=project, path=path, format="model_outputs", model_name="m")

    assert job.status == ImportStatus.FAILED and job.problem_count == 150
    (group,) = job.report["problem_groups"]
    assert group["count"] == 150 and group["first"]["file_line"] == 2  # "[" is line 1
    assert group["text"] == "150 records: id: no prompt with id … in this project; first at record 1 (line 2)"
    assert "outputs_with_prompts" in group["next_step"]


@needs_alpacare
def test_the_real_model_outputs_import_with_their_prompts_into_an_empty_project(project):
    path = MODEL_OUTPUTS_DIR / "AlpaCare-7b.json"
    records = json.loads(path.read_text())

    job = import_file(project=project, path=path)

    assert job.status == ImportStatus.SUCCEEDED, job.problems
    assert (job.format, job.model_name) == ("outputs_with_prompts", "AlpaCare-7b")
    distinct = {r["instruction"].strip() for r in records}
    assert Prompt.objects.filter(project=project).count() == len(distinct)
    first = ModelResponse.objects.get(origin_line=1)
    assert (first.text, first.prompt.instruction) == (records[0]["response"], records[0]["instruction"])


@needs_alpacare
def test_real_model_outputs_after_the_test_set_attach_to_its_prompts(project):
    import_file(project=project, path=TEST_SET)
    job = import_file(project=project, path=MODEL_OUTPUTS_DIR / "medalpaca-7b.json")

    assert job.status == ImportStatus.SUCCEEDED, job.problems
    assert job.format == "model_outputs" and job.model_name == "medalpaca-7b"
    assert ModelResponse.objects.filter(model_name="medalpaca-7b").count() == 216
