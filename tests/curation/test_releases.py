"""Dataset releases: what a release contains, that it is reproducible, safe to open, and survives failure."""

import csv
import io
import json
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from curation.models import FlagKind, ItemFlag, Release, ReleaseStatus, TaskStatus
from curation.services import exports
from curation.services.exports import (
    ReleaseNotRetryable,
    release_build,
    release_create,
    release_directory,
    release_retry,
)
from curation.services.imports import import_file
from curation.services.reviews import review_submit
from curation.services.tasks import seed_task_create, seed_task_set_status
from tests.factories import ClinicianFactory, ModelResponseFactory, SeedTaskFactory

ALPACARE = settings.BASE_DIR.parent / "shared" / "data" / "alpacare"
SEED_FILE = ALPACARE / "med_seed.json"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _build(project, fmt="alpaca", user=None, **kwargs) -> Release:
    release = release_create(project=project, created_by=user, format=fmt, enqueue=False, **kwargs)
    return release_build(release_id=release.pk)


def _data(release: Release) -> bytes:
    return (Path(settings.MEDIA_ROOT) / release.file_path).read_bytes()


def _lines(release: Release) -> list[dict]:
    return [json.loads(line) for line in _data(release).decode("utf-8").splitlines()]


def _accepted(project, **kwargs):
    return SeedTaskFactory(project=project, status=TaskStatus.ACCEPTED, **kwargs)


def _seed_answers(**overrides):
    return {"decision": "accept", "clinical_validity": 5, "clarity": 4, "difficulty": 3, **overrides}


def _response_answers(project):
    """Valid answers for the project's response form, whatever its required fields are."""
    answers = {}
    for field in project.response_schema.fields:
        if not field.get("required"):
            continue
        if field["kind"] == "ordinal_scale":
            answers[field["key"]] = field["min"]
        elif field["kind"] in ("single_choice", "pairwise_choice"):
            answers[field["key"]] = field["options"][0]["value"]
        elif field["kind"] in ("multiple_choice", "rubric"):
            answers[field["key"]] = []
        elif field["kind"] == "number":
            answers[field["key"]] = field.get("min", 0)
        else:
            answers[field["key"]] = "ok"
    return answers


# --- Formats ---


@pytest.mark.skipif(
    not SEED_FILE.exists() and not os.environ.get("CI"), reason="needs ../shared/data/alpacare (CI always has it)"
)
def test_the_alpacare_seed_tasks_accepted_export_as_167_alpaca_lines_that_datasets_loads(project, admin_user, tmp_path):
    from datasets import load_dataset

    records = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    job = import_file(project=project, path=SEED_FILE, format="alpacare_seed", created_by=admin_user)
    assert job.records_written == 167, job.problems
    for task in project.seed_tasks.all():
        seed_task_set_status(
            task_id=task.pk, actor=admin_user, status=TaskStatus.ACCEPTED, rationale="Clinician-curated"
        )

    release = _build(project, user=admin_user)

    assert release.status == ReleaseStatus.SUCCEEDED, release.error
    assert release.row_count == 167
    path = Path(settings.MEDIA_ROOT) / release.file_path
    dataset = load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf"))
    assert dataset.num_rows == 167
    assert set(dataset.column_names) == {"instruction", "input", "output", "metadata"}
    no_input = sum(1 for r in records if r["input"].strip() == "<noinput>")
    assert sum(1 for value in dataset["input"] if value == "") == no_input
    assert "<noinput>" not in path.read_text(encoding="utf-8")
    assert dataset[0]["instruction"] == records[0]["instruction"]
    assert dataset[0]["metadata"]["difficulty"] == int(records[0]["difficulty"])
    assert "med_seed.json | 167" in release.card


def test_alpaca_rows_carry_the_task_metadata_and_only_accepted_tasks(project, clinician):
    task = seed_task_create(
        project=project,
        instruction="Classify this ECG finding.",
        input="ST elevation in V1-V4",
        reference_output="Anterior STEMI",
        topic="Cardiology",
        view="Physician",
        task_type="Classification",
        difficulty=4,
        status=TaskStatus.ACCEPTED,
    )
    SeedTaskFactory(project=project, status=TaskStatus.IN_REVIEW)
    review_submit(reviewer=clinician, schema=project.seed_schema, seed_task=task, answers=_seed_answers())

    [row] = _lines(_build(project))

    assert list(row) == ["instruction", "input", "output", "metadata"]
    assert row["input"] == "ST elevation in V1-V4"
    assert row["output"] == "Anterior STEMI"
    assert row["metadata"] == {
        "task_id": task.pk,
        "topic": "Cardiology",
        "view": "Physician",
        "type": "Classification",
        "difficulty": 4,
        "reviewers": 1,
        "agreement": None,
        "revision": 1,
    }


def test_chat_rows_put_the_input_after_the_instruction_with_an_optional_system_prompt(project):
    _accepted(project, instruction="Explain this result.", input="HbA1c 9%", reference_output="Poorly controlled.")

    [row] = _lines(_build(project, "chat", filters={"system_prompt": "You are a careful clinician."}))

    assert row["messages"] == [
        {"role": "system", "content": "You are a careful clinician."},
        {"role": "user", "content": "Explain this result.\n\nHbA1c 9%"},
        {"role": "assistant", "content": "Poorly controlled."},
    ]
    [without_system] = _lines(_build(project, "chat"))
    assert [m["role"] for m in without_system["messages"]] == ["user", "assistant"]


def test_corrected_responses_of_a_review_round_export_as_preference_pairs_and_ties_never(project):
    task = _accepted(project, instruction="What is first-line for hypertension?")
    response = ModelResponseFactory(seed_task=task, text="Start a beta blocker.")
    untouched = ModelResponseFactory(seed_task=task, text="Thiazide, ACE inhibitor, ARB or CCB.")
    first, second, third = ClinicianFactory.create_batch(3)
    answers = _response_answers(project)
    review_submit(
        reviewer=first,
        schema=project.response_schema,
        response=response,
        answers=answers,
        corrected_text="A thiazide, ACE inhibitor, ARB or calcium-channel blocker.",
    )
    review_submit(
        reviewer=second,
        schema=project.response_schema,
        response=untouched,
        answers=answers,
        corrected_text="  Thiazide, ACE inhibitor, ARB or CCB.\n",
    )
    review_submit(reviewer=third, schema=project.response_schema, response=response, answers=answers)

    release = _build(project, "preference")

    assert release.row_count == 1
    [pair] = _lines(release)
    assert pair["prompt"] == "What is first-line for hypertension?"
    assert pair["chosen"] == "A thiazide, ACE inhibitor, ARB or calcium-channel blocker."
    assert pair["rejected"] == "Start a beta blocker."
    assert pair["metadata"]["response_id"] == response.pk
    assert pair["metadata"]["reviewer"].startswith("reviewer-")


def test_a_superseded_correction_is_not_exported_only_the_current_one(project, clinician):
    task = _accepted(project)
    response = ModelResponseFactory(seed_task=task, text="Old text.")
    answers = _response_answers(project)
    review_submit(
        reviewer=clinician, schema=project.response_schema, response=response, answers=answers, corrected_text="v1"
    )
    review_submit(
        reviewer=clinician, schema=project.response_schema, response=response, answers=answers, corrected_text="v2"
    )

    assert [pair["chosen"] for pair in _lines(_build(project, "preference"))] == ["v2"]


def test_reviews_export_one_line_per_item_reviewer_and_field_with_pseudonyms(project, clinician):
    task = _accepted(project)
    review_submit(reviewer=clinician, schema=project.seed_schema, seed_task=task, answers=_seed_answers(comment="fine"))

    release = _build(project, "reviews")
    rows = _lines(release)

    fields = [f["key"] for f in project.seed_schema.fields]
    assert [row["field"] for row in rows] == fields
    assert {row["task_id"] for row in rows} == {task.pk}
    assert {row["value"] for row in rows if row["field"] == "clinical_validity"} == {5}
    assert {row["value"] for row in rows if row["field"] == "flags"} == {None}
    assert len({row["reviewer"] for row in rows}) == 1
    assert clinician.email not in _data(release).decode()
    assert str(clinician.pk) not in {row["reviewer"] for row in rows}


def test_pseudonyms_are_stable_within_a_release_and_differ_across_releases(project):
    first_task, second_task = _accepted(project), _accepted(project)
    reviewer = ClinicianFactory()
    for task in (first_task, second_task):
        review_submit(reviewer=reviewer, schema=project.seed_schema, seed_task=task, answers=_seed_answers())

    one = {row["reviewer"] for row in _lines(_build(project, "reviews"))}
    other = {row["reviewer"] for row in _lines(_build(project, "reviews"))}

    assert len(one) == 1 and len(other) == 1
    assert one != other


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised(project, clinician):
    task = _accepted(project)
    hostile = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]
    for comment in hostile:
        review_submit(
            reviewer=ClinicianFactory(),
            schema=project.seed_schema,
            seed_task=task,
            answers=_seed_answers(comment=comment),
        )

    release = _build(project, "reviews_csv")
    rows = list(csv.DictReader(io.StringIO(_data(release).decode("utf-8"), newline="")))

    comments = [row["value"] for row in rows if row["field"] == "comment"]
    assert comments == ["'" + value for value in hostile]
    assert release.row_count == len(rows)
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


def test_scores_csv_has_a_column_per_numeric_field_and_keeps_numbers_numbers(project):
    task = _accepted(project)
    review_submit(reviewer=ClinicianFactory(), schema=project.seed_schema, seed_task=task, answers=_seed_answers())

    release = _build(project, "scores_csv")
    [row] = list(csv.DictReader(io.StringIO(_data(release).decode("utf-8"), newline="")))

    assert row["clinical_validity"] == "5" and row["clarity"] == "4" and row["difficulty"] == "3"
    assert "comment" not in row and "decision" not in row
    assert row["reviewer"].startswith("reviewer-")


def test_json_lines_are_strict_utf8_one_object_each(project):
    _accepted(project, instruction="Décrivez l'œdème — « aigu » 🫀", reference_output='Say "no" to\nNaN')

    data = _data(_build(project))

    text = data.decode("utf-8")
    assert "œdème" in text and "\\u" not in text
    assert len(text.splitlines()) == 1 and text.endswith("\n")
    json.loads(text, parse_constant=lambda name: pytest.fail(f"non-strict JSON constant {name}"))


# --- Reproducibility and filters ---


def test_rebuilding_the_same_definition_on_unchanged_data_gives_a_byte_identical_file(project, clinician):
    for n in range(30):
        task = _accepted(project, instruction=f"Task {n}", difficulty=1 + n % 5)
        if n % 3 == 0:
            review_submit(reviewer=clinician, schema=project.seed_schema, seed_task=task, answers=_seed_answers())

    first = _build(project, "alpaca")
    second = _build(project, "alpaca")

    assert _data(first) == _data(second)
    assert first.sha256 == second.sha256 and first.definition_hash == second.definition_hash
    assert first.pk != second.pk


def test_items_with_an_uncleared_unsafe_or_phi_flag_are_left_out(project, curator):
    kept = _accepted(project, instruction="Kept")
    unsafe = _accepted(project, instruction="Unsafe")
    phi = _accepted(project, instruction="Contains a name")
    cleared = _accepted(project, instruction="Cleared")
    specialist = _accepted(project, instruction="Needs a specialist")
    for task, kind in ((unsafe, FlagKind.UNSAFE), (phi, FlagKind.PHI), (cleared, FlagKind.PHI)):
        ItemFlag.objects.create(project=project, seed_task=task, kind=kind, raised_by=curator)
    ItemFlag.objects.filter(seed_task=cleared).update(cleared_at=timezone.now(), cleared_by=curator)
    ItemFlag.objects.create(project=project, seed_task=specialist, kind=FlagKind.NEEDS_SPECIALIST, raised_by=curator)

    rows = _lines(_build(project))

    assert [row["instruction"] for row in rows] == [kept.instruction, cleared.instruction, specialist.instruction]


def test_flagged_responses_give_no_preference_pairs(project, curator):
    response = ModelResponseFactory(seed_task=_accepted(project), text="Give 10 g of potassium.")
    review_submit(
        reviewer=ClinicianFactory(),
        schema=project.response_schema,
        response=response,
        answers=_response_answers(project),
        corrected_text="Never give potassium as a bolus.",
    )
    ItemFlag.objects.create(project=project, response=response, kind=FlagKind.UNSAFE, raised_by=curator)

    assert _build(project, "preference").row_count == 0


def test_filters_select_by_reviewers_topic_view_type_difficulty_and_date(project):
    reviewed = _accepted(project, topic_raw="Cardiology", difficulty=2)
    _accepted(project, topic_raw="Oncology", difficulty=2)
    _accepted(project, topic_raw="Cardiology", difficulty=5)
    for reviewer in ClinicianFactory.create_batch(2):
        review_submit(reviewer=reviewer, schema=project.seed_schema, seed_task=reviewed, answers=_seed_answers())

    def ids(**filters):
        return [row["metadata"]["task_id"] for row in _lines(_build(project, filters=filters))]

    assert len(ids()) == 3
    assert ids(min_reviewers=2) == [reviewed.pk]
    assert len(ids(topics=["Cardiology"])) == 2
    assert ids(topics=["Cardiology"], difficulties=[2]) == [reviewed.pk]
    assert len(ids(views=["Patient"], types=["Open Q&A"])) == 3
    today = timezone.now().date().isoformat()
    assert len(ids(created_from=today, created_to=today)) == 3
    assert ids(created_to="2000-01-01") == []


def test_bad_filters_are_refused_with_a_message_naming_each_and_nothing_is_saved(project):
    with pytest.raises(ValidationError) as refused:
        release_create(
            project=project,
            created_by=None,
            format="parquet",
            enqueue=False,
            license=" ",
            filters={
                "statuses": ["published"],
                "min_reviewers": -1,
                "topics": ["Astrology"],
                "difficulties": [7],
                "created_from": "31/01/2026",
                "min_agreement": 0.6,
                "colour": "red",
            },
        )

    errors = refused.value.message_dict
    assert set(errors) == {
        "format",
        "license",
        "statuses",
        "min_reviewers",
        "topics",
        "difficulties",
        "created_from",
        "min_agreement",
        "colour",
    }
    assert "parquet" in errors["format"][0]
    assert "'Astrology'" in errors["topics"][0]
    assert "not computed" in errors["min_agreement"][0]
    assert not Release.objects.exists()


def test_agreement_per_item_appears_in_metadata_once_computed(project, monkeypatch):
    task = _accepted(project)
    monkeypatch.setattr(exports, "agreement_per_item", lambda project: {task.pk: 0.8125})

    [row] = _lines(_build(project, filters={"min_agreement": 0.5}))

    assert row["metadata"]["agreement"] == 0.8125


# --- Failure, retry, immutability ---


def test_a_build_that_dies_mid_write_leaves_no_visible_file_and_can_be_retried(project, media):
    for _ in range(5):
        _accepted(project)
    release = release_create(project=project, created_by=None, format="alpaca", enqueue=False)

    def die_on_third_line(rows):
        if rows == 3:
            raise OSError("disk full")

    failed = release_build(release_id=release.pk, on_line=die_on_third_line)

    assert failed.status == ReleaseStatus.FAILED
    assert "disk full" in failed.error
    assert failed.file_path == "" and failed.sha256 == ""
    assert not release_directory(failed).exists()
    assert list(Path(media).rglob("*")) == [Path(media) / "releases"], "a partial file was left behind"

    release_retry(release_id=release.pk, actor=None, enqueue=False)
    rebuilt = release_build(release_id=release.pk)

    assert rebuilt.status == ReleaseStatus.SUCCEEDED
    assert rebuilt.row_count == 5 and rebuilt.attempts == 2 and rebuilt.error == ""
    assert len(_lines(rebuilt)) == 5


def test_leftovers_of_a_killed_worker_are_removed_when_the_release_is_taken_over(project, media):
    _accepted(project)
    release = release_create(project=project, created_by=None, format="alpaca", enqueue=False)
    Release.objects.filter(pk=release.pk).update(
        status=ReleaseStatus.RUNNING, heartbeat_at=timezone.now() - timezone.timedelta(hours=1)
    )
    leftover = Path(media) / "releases" / f".release-{release.pk}-deadbeef.part"
    leftover.mkdir(parents=True)
    (leftover / "data.jsonl").write_text('{"instruction": "half')

    assert release_build(release_id=release.pk).status == ReleaseStatus.RUNNING, "a running release is not rebuilt"
    release_retry(release_id=release.pk, actor=None, enqueue=False)
    rebuilt = release_build(release_id=release.pk)

    assert rebuilt.status == ReleaseStatus.SUCCEEDED
    assert not leftover.exists()


def test_a_redelivered_task_takes_over_a_release_its_dead_worker_left_running(project):
    _accepted(project)
    release = release_create(project=project, created_by=None, format="alpaca", enqueue=False)
    Release.objects.filter(pk=release.pk).update(status=ReleaseStatus.RUNNING, heartbeat_at=timezone.now())

    assert release_build(release_id=release.pk, resume_running=True).status == ReleaseStatus.SUCCEEDED


def test_a_succeeded_release_is_immutable(project):
    _accepted(project)
    release = _build(project)

    with pytest.raises(ReleaseNotRetryable):
        release_retry(release_id=release.pk, actor=None, enqueue=False)
    again = release_build(release_id=release.pk, resume_running=True)
    assert (again.sha256, again.attempts, again.finished_at) == (release.sha256, 1, release.finished_at)


def test_a_running_release_that_still_reports_cannot_be_retried(project):
    release = release_create(project=project, created_by=None, format="alpaca", enqueue=False)
    Release.objects.filter(pk=release.pk).update(status=ReleaseStatus.RUNNING, heartbeat_at=timezone.now())

    with pytest.raises(ReleaseNotRetryable):
        release_retry(release_id=release.pk, actor=None, enqueue=False)


def test_the_release_records_its_manifest_and_card(project, admin_user, clinician):
    task = _accepted(project, topic_raw="Cardiology | Vascular")
    review_submit(reviewer=clinician, schema=project.seed_schema, seed_task=task, answers=_seed_answers())

    release = _build(project, user=admin_user, purpose="Tune a cardiology assistant.", license="CC BY 4.0")

    assert release.schema_versions == [
        {"id": project.seed_schema.pk, "name": "Seed review", "version": 1, "target": "seed_task"}
    ]
    assert release.guidelines_version == project.guidelines_version
    assert release.file_size == len(_data(release))
    assert release.finished_at is not None and release.created_by == admin_user
    card = (release_directory(release) / "README.md").read_text()
    assert card == release.card
    for expected in ("Tune a cardiology assistant.", "CC BY 4.0", "Cardiology \\| Vascular | 1", release.sha256):
        assert expected in card


def test_the_card_reports_agreement_per_field_with_its_confidence_interval(project):
    tasks = [_accepted(project) for _ in range(6)]
    first, second = ClinicianFactory.create_batch(2)
    for n, task in enumerate(tasks):
        for reviewer, validity in ((first, 1 + n % 5), (second, 1 + (n + n // 3) % 5)):
            review_submit(
                reviewer=reviewer,
                schema=project.seed_schema,
                seed_task=task,
                answers=_seed_answers(clinical_validity=validity),
            )

    card = _build(project).card

    [validity] = [line for line in card.splitlines() if line.startswith("| Seed review v1 | Clinical validity |")]
    assert "Krippendorff's alpha" in validity
    assert " to " in validity, "a confidence interval"
    assert validity.endswith("| 6 |")


# --- Command line ---


def test_export_dataset_command_writes_the_release_file_and_card(project, tmp_path, admin_user):
    from django.core.management import call_command

    _accepted(project, topic_raw="Cardiology", instruction="Kept")
    _accepted(project, topic_raw="Oncology", instruction="Other topic")
    out, card = tmp_path / "out" / "cardio.jsonl", tmp_path / "cardio.README.md"
    stdout = io.StringIO()

    call_command(
        "export_dataset",
        "--project", project.slug, "--format", "alpaca", "--out", str(out), "--card", str(card),
        "--topic", "Cardiology", "--by", admin_user.email,
        stdout=stdout,
    )  # fmt: skip

    release = Release.objects.get()
    assert [json.loads(line)["instruction"] for line in out.read_text().splitlines()] == ["Kept"]
    assert out.read_bytes() == _data(release)
    assert card.read_text() == release.card
    assert release.created_by == admin_user and release.filters["topics"] == ["Cardiology"]
    assert release.sha256 in stdout.getvalue()


def test_export_dataset_command_refuses_bad_filters_and_writes_nothing(project, tmp_path):
    from django.core.management import CommandError, call_command

    out = tmp_path / "x.jsonl"
    with pytest.raises(CommandError, match="topics: no task in cardio has topic 'Nowhere'"):
        call_command("export_dataset", "--project", project.slug, "--format", "alpaca", "--out", str(out),
                     "--topic", "Nowhere")  # fmt: skip
    with pytest.raises(CommandError, match="--project: no project with slug 'nope'"):
        call_command("export_dataset", "--project", "nope", "--format", "alpaca", "--out", str(out))
    assert not out.exists()
    assert not Release.objects.exists()
