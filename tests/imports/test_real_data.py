"""Importing the published AlpaCare files (third-party, CC BY-NC 4.0) gives exactly the records they hold."""

import pytest

from curation.models import ImportStatus, ModelResponse, Prompt, SeedTask, TaskSource, TaskStatus
from curation.services.imports import import_file
from tests.data import MODEL_OUTPUTS_DIR, SEED, TEST_SET, model_output_files
from tests.default_vocabulary import ensure_default_vocabulary
from tests.markers import needs_alpacare

MODEL_OUTPUTS = model_output_files()


@pytest.fixture(autouse=True)
def default_vocabulary(db):
    ensure_default_vocabulary()


pytestmark = needs_alpacare


def test_the_seed_file_gives_exactly_167_imported_tasks_in_review_with_their_origin(project, curator):
    job = import_file(project=project, path=SEED, created_by=curator)

    assert job.status == ImportStatus.SUCCEEDED, job.problems
    assert job.format == "alpacare_seed"
    assert (job.records_total, job.records_written, job.records_skipped) == (167, 167, 0)
    tasks = SeedTask.objects.filter(project=project)
    assert tasks.count() == 167
    assert set(tasks.values_list("source", "status").distinct()) == {(TaskSource.IMPORTED, TaskStatus.IN_REVIEW)}
    first = tasks.get(origin_line=1)
    assert first.instruction == "Explain what multiple sclerosis is and its pathophysiology."
    assert first.input == "" and first.difficulty == 1
    assert (first.origin_file, first.import_job_id) == ("med_seed.json", job.pk)
    assert first.history.count() == 1
    assert not tasks.filter(input="<noinput>").exists()


def test_seed_metadata_is_linked_to_vocabulary_and_the_rest_is_reported_unmapped(project, curator):
    job = import_file(project=project, path=SEED, created_by=curator)

    tasks = SeedTask.objects.filter(project=project)
    # "Medical student", "Medical Students" and "Medical Student" are one view; "Rewrites" is "Rewrite".
    assert {t.view.name for t in tasks.filter(view_raw__in=["Medical student", "Medical Students"])} == {
        "Medical Student"
    }
    assert {t.task_type.name for t in tasks.filter(task_type_raw="Rewrites")} == {"Rewrite"}
    unmapped_views = {entry["raw"] for entry in job.report["unmapped"]["view"]}
    assert "Radiologist" in unmapped_views and "Medical Student" not in unmapped_views
    assert tasks.filter(view__isnull=True).exclude(view_raw="").count() == sum(
        entry["count"] for entry in job.report["unmapped"]["view"]
    )


def test_the_test_set_and_the_ten_model_output_files_give_216_prompts_and_3024_responses(project, curator):
    job = import_file(project=project, path=TEST_SET, created_by=curator)
    assert job.status == ImportStatus.SUCCEEDED, job.problems
    assert Prompt.objects.filter(project=project).count() == 216
    references = ModelResponse.objects.filter(prompt__project=project)
    assert references.count() == 216 * 4
    assert set(references.values_list("model_name", flat=True)) == {
        "gpt-4",
        "claude-2",
        "gpt-3.5-turbo",
        "text-davinci-003",
    }
    assert all(p.responses.count() == 4 for p in Prompt.objects.filter(project=project))

    for path in MODEL_OUTPUTS:
        job = import_file(project=project, path=path, created_by=curator)
        assert job.status == ImportStatus.SUCCEEDED, (path.name, job.problems)
        assert job.records_written == 216

    assert ModelResponse.objects.filter(prompt__project=project).count() == 3024
    assert all(p.responses.count() == 14 for p in Prompt.objects.filter(project=project))
    alpaca = ModelResponse.objects.get(prompt__external_id="0", model_name="alpaca")
    assert alpaca.raw_output.startswith("Below is an instruction")
    assert alpaca.text.startswith("It sounds like she may have a tropical disease")


def test_model_outputs_numbered_by_position_are_matched_to_their_prompt_by_instruction(project, curator):
    import_file(project=project, path=TEST_SET, created_by=curator)
    job = import_file(project=project, path=MODEL_OUTPUTS_DIR / "alpaca.json", created_by=curator)

    # The test set has no id 143; the outputs count by position, so from 143 on they are one behind.
    assert job.report["realigned_count"] == 73
    assert job.report["realigned"][0] == {"line": 144, "id": "143", "prompt": "144"}
    for response in ModelResponse.objects.filter(model_name="alpaca").select_related("prompt"):
        assert response.prompt.instruction.strip() in response.raw_output


def test_reimporting_every_real_file_duplicates_nothing(project, curator):
    paths = [SEED, TEST_SET, *MODEL_OUTPUTS]
    for path in paths:
        import_file(project=project, path=path, created_by=curator)
    counts = (SeedTask.objects.count(), Prompt.objects.count(), ModelResponse.objects.count())

    again = [import_file(project=project, path=path, created_by=curator) for path in paths]

    assert {job.status for job in again} == {ImportStatus.DUPLICATE}
    assert (SeedTask.objects.count(), Prompt.objects.count(), ModelResponse.objects.count()) == counts
    assert counts == (167, 216, 3024)
