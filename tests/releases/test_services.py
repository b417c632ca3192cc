"""Dataset releases: what a release contains, that it is reproducible, safe to open, and survives failure."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from curation.models import (
    FlagKind,
    ItemFlag,
    ModelResponse,
    PhiFinding,
    PhiFindingState,
    RatingSchema,
    Release,
    ReleaseStatus,
    SchemaTarget,
    TaskStatus,
)
from curation.schemas.defaults import SEED_REVIEW
from curation.services import release_builds
from curation.services.imports import import_file
from curation.services.phi import phi_item_scan
from curation.services.phi_findings import phi_finding_clear
from curation.services.release_attempts import release_directory
from curation.services.releases import ReleaseNotRetryable, release_build, release_create, release_retry
from curation.services.reviews import review_submit
from curation.services.seed_tasks import seed_task_create, seed_task_set_status
from curation.services.vocabulary import vocabulary_term_get_or_create
from tests.data import SEED
from tests.factories import (
    ClinicianFactory,
    MembershipFactory,
    ModelResponseFactory,
    PromptFactory,
    SeedTaskFactory,
)
from tests.markers import needs_alpacare


def _build(project, fmt="alpaca", user=None, **kwargs) -> Release:
    release = release_create(project=project, created_by=user, format=fmt, enqueue=False, **kwargs)
    return release_build(release_id=release.pk)


def _refused(project, fmt="alpaca", **kwargs) -> str:
    """The message a definition that gives no row is refused with; nothing is saved."""
    before = Release.objects.count()
    with pytest.raises(ValidationError) as refused:
        release_create(project=project, created_by=None, format=fmt, enqueue=False, **kwargs)
    assert Release.objects.count() == before
    return refused.value.message_dict["filters"][0]


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


def _correct(project, response, corrected_text, reviewer=None):
    """A clinician's submitted review of `response` that rewrites it as `corrected_text`."""
    return review_submit(
        reviewer=reviewer or ClinicianFactory(),
        schema=project.response_schema,
        response=response,
        answers=_response_answers(project),
        corrected_text=corrected_text,
    )


# --- Formats ---


@needs_alpacare
def test_the_alpacare_seed_tasks_accepted_export_as_167_alpaca_lines_that_datasets_loads(project, admin_user, tmp_path):
    from datasets import load_dataset

    records = json.loads(SEED.read_text(encoding="utf-8"))
    job = import_file(project=project, path=SEED, format="alpacare_seed", created_by=admin_user)
    assert job.records_written == 167, job.problems
    for task in project.seed_tasks.all():
        seed_task_set_status(
            task_id=task.pk, actor=admin_user, status=TaskStatus.ACCEPTED, rationale="Clinician-curated"
        )

    # The scanner finds four identifiers in the seed file ("Miss Smith", "James presents", two dates); the
    # curator clears them as the fictional examples they are, as the PHI queue lets them do.
    for task in project.seed_tasks.all():
        phi_item_scan(owner=task)
    findings = list(PhiFinding.objects.filter(project=project, state=PhiFindingState.OPEN))
    assert len(findings) == 4
    for finding in findings:
        phi_finding_clear(finding_id=finding.pk, curator=admin_user, reason="fictional patient in a teaching case")

    # The seed file gives no reference outputs: all 167 are exported only when tasks without one are kept.
    release = _build(project, user=admin_user, filters={"include_empty_outputs": True})

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
    _correct(project, response, "A thiazide, ACE inhibitor, ARB or calcium-channel blocker.", reviewer=first)
    _correct(project, untouched, "  Thiazide, ACE inhibitor, ARB or CCB.\n", reviewer=second)
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


def test_pseudonyms_are_the_same_for_one_definition_and_differ_across_definitions(project):
    first_task, second_task = _accepted(project), _accepted(project)
    reviewer = ClinicianFactory()
    for task in (first_task, second_task):
        review_submit(reviewer=reviewer, schema=project.seed_schema, seed_task=task, answers=_seed_answers())

    one = {row["reviewer"] for row in _lines(_build(project, "reviews"))}
    again = {row["reviewer"] for row in _lines(_build(project, "reviews"))}
    other = {row["reviewer"] for row in _lines(_build(project, "reviews", filters={"min_reviewers": 1}))}

    assert len(one) == 1 and len(other) == 1
    assert one == again
    assert one != other


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised(project, clinician):
    task = _accepted(project)
    # (a formula without an address: an address in the text is a PHI finding and would keep the task out)
    hostile = ['=HYPERLINK(A1&B1,"x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]
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
    _correct(project, response, "Never give potassium as a bolus.")
    ItemFlag.objects.create(project=project, response=response, kind=FlagKind.UNSAFE, raised_by=curator)

    assert "would hold no row" in _refused(project, "preference")


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
    assert "widen its filters" in _refused(project, filters={"created_to": "2000-01-01"})


def test_a_topic_filter_takes_tasks_by_their_terms_name_or_by_the_spelling_no_term_matched(project):
    cardiology = vocabulary_term_get_or_create(kind="topic", name="Cardiology")
    by_term = _accepted(project, topic=cardiology, topic_raw="cardio")
    by_spelling = _accepted(project, topic=None, topic_raw="Heart clinic")
    _accepted(project, topic=None, topic_raw="Oncology")

    def ids(*topics):
        return [row["metadata"]["task_id"] for row in _lines(_build(project, filters={"topics": list(topics)}))]

    assert ids("Cardiology") == [by_term.pk]
    assert ids("Heart clinic") == [by_spelling.pk]
    assert ids("Cardiology", "Heart clinic") == [by_term.pk, by_spelling.pk]


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
                "min_agreement": 1.5,
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
    assert "from 0 to 1" in errors["min_agreement"][0] and "1.5" in errors["min_agreement"][0]
    assert not Release.objects.exists()


# --- Per-item agreement ---


def _review(task, reviewer=None, **answers):
    review_submit(
        reviewer=reviewer or ClinicianFactory(),
        schema=task.project.seed_schema,
        seed_task=task,
        answers=_seed_answers(**answers),
    )


def test_per_item_agreement_is_the_mean_share_of_agreeing_reviewer_pairs_over_scored_fields(project):
    task = _accepted(project)
    # Three pairs per field. decision 1/3, clinical validity 1/3, clarity 1/3, difficulty 3/3; flags was
    # answered by two reviewers as the same set (1/1); comments differ but free text is not compared.
    _review(task, decision="accept", clinical_validity=5, clarity=4, flags=["unsafe", "phi"], comment="fine")
    _review(task, decision="accept", clinical_validity=5, clarity=3, flags=["phi", "unsafe"], comment="ok")
    _review(task, decision="reject", clinical_validity=4, clarity=4, comment="no")
    once = _accepted(project)
    _review(once)
    never = _accepted(project)

    rows = {row["metadata"]["task_id"]: row["metadata"] for row in _lines(_build(project))}

    assert rows[task.pk]["agreement"] == 0.6  # (1/3 + 1/3 + 1/3 + 1 + 1) / 5
    assert rows[once.pk]["agreement"] is None and rows[once.pk]["reviewers"] == 1
    assert rows[never.pk]["agreement"] is None
    chat = {row["metadata"]["task_id"]: row["metadata"]["agreement"] for row in _lines(_build(project, "chat"))}
    assert chat[task.pk] == 0.6


def test_agreement_is_rounded_to_four_places_and_counts_only_current_reviews(project):
    task = _accepted(project)
    first = ClinicianFactory()
    _review(task, first, clinical_validity=1)  # superseded below: the current review agrees
    _review(task, first, clinical_validity=5)
    _review(task, clinical_validity=5, clarity=3)
    _review(task, clinical_validity=5, clarity=3, difficulty=2)

    [row] = _lines(_build(project))

    # decision 1, validity 1, clarity 1/3, difficulty 1/3 (flags unanswered): 8/3 / 4 = 0.6667
    assert row["metadata"]["agreement"] == 0.6667


def test_the_minimum_agreement_filter_keeps_items_at_or_above_it_and_drops_those_without_agreement(project):
    agreeing, split, single = _accepted(project), _accepted(project), _accepted(project)
    _accepted(project)  # no review: agreement null
    for _ in range(2):
        _review(agreeing)
    _review(split, decision="accept", clinical_validity=1, clarity=1, difficulty=1)
    _review(split, decision="reject", clinical_validity=5, clarity=5, difficulty=5)
    _review(single)

    def kept(minimum):
        release = _build(project, filters={"min_agreement": minimum})
        ids = [row["metadata"]["task_id"] for row in _lines(release)]
        assert release.row_count == release.rows_total == len(ids)
        return ids

    assert kept(1) == [agreeing.pk]
    assert kept("0.5") == [agreeing.pk]
    assert kept(0) == [agreeing.pk, split.pk], "null agreement is left out whenever a minimum is set"
    assert len(kept(None)) == 4


def test_the_card_counts_only_the_reviews_behind_the_rows_a_minimum_agreement_kept(project):
    agreeing, split = _accepted(project), _accepted(project)
    shared_reviewer = ClinicianFactory()
    _review(agreeing, reviewer=shared_reviewer)
    _review(agreeing)
    _review(split, reviewer=shared_reviewer, decision="accept", clinical_validity=1, clarity=1, difficulty=1)
    _review(split, decision="reject", clinical_validity=5, clarity=5, difficulty=5)
    _review(split, decision="reject", clinical_validity=3, clarity=3, difficulty=3)

    everything = _build(project)
    agreed = _build(project, filters={"min_agreement": 1})

    assert "- Current reviews behind these rows: 5 by 4 reviewers" in everything.card
    assert "- Current reviews behind these rows: 2 by 2 reviewers" in agreed.card


@pytest.mark.parametrize("minimum", [-0.1, 1.01, "high", True])
def test_a_minimum_agreement_outside_0_to_1_is_refused_with_a_clear_message(project, minimum):
    with pytest.raises(ValidationError) as refused:
        release_create(
            project=project, created_by=None, format="alpaca", enqueue=False, filters={"min_agreement": minimum}
        )
    assert "must be a number from 0 to 1" in refused.value.message_dict["min_agreement"][0]


def test_a_minimum_agreement_is_refused_for_formats_that_are_not_made_of_seed_tasks(project):
    with pytest.raises(ValidationError, match="seed-task formats"):
        release_create(
            project=project, created_by=None, format="reviews", enqueue=False, filters={"min_agreement": 0.5}
        )


def test_agreement_costs_the_same_number_of_queries_whatever_the_number_of_items(project, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(release_builds, "CHUNK_SIZE", 2)
    # The card's per-field figures come from a cache with its own queries; only the rows are measured here.
    monkeypatch.setattr(release_builds, "agreement_per_field", lambda project: None)
    reviewers = ClinicianFactory.create_batch(2)

    def queries_for(n_tasks):
        for _ in range(n_tasks):
            task = _accepted(project)
            for reviewer in reviewers:
                _review(task, reviewer)
        release = release_create(
            project=project, created_by=None, format="alpaca", enqueue=False, filters={"min_agreement": 0.5}
        )
        with CaptureQueriesContext(connection) as queries:
            built = release_build(release_id=release.pk)
        assert built.row_count == project.seed_tasks.count()
        assert {row["metadata"]["agreement"] for row in _lines(built)} == {1.0}
        return len(queries)

    assert queries_for(3) == queries_for(12)


@pytest.mark.parametrize("fmt", ["reviews", "scores_csv", "preference", "chat"])
def test_a_build_costs_the_same_number_of_queries_whatever_the_number_of_items(project, monkeypatch, fmt):
    """Tasks, their responses and test prompts' responses, each reviewed (and each response corrected):
    the build reads them through streamed queries, never a query per item or per chunk."""
    monkeypatch.setattr(release_builds, "CHUNK_SIZE", 2)
    monkeypatch.setattr(release_builds, "agreement_per_field", lambda project: None)
    reviewer = ClinicianFactory()

    def queries_for(n_items):
        for n in range(n_items):
            task = _accepted(project)
            review_submit(reviewer=reviewer, schema=project.seed_schema, seed_task=task, answers=_seed_answers())
            _correct(
                project, ModelResponseFactory(seed_task=task, text=f"Answer {n}."), f"Better answer {n}.", reviewer
            )
            prompt = PromptFactory(project=project)
            _correct(
                project, ModelResponseFactory(seed_task=None, prompt=prompt, text=f"Reply {n}."), f"Fix {n}.", reviewer
            )
        release = release_create(project=project, created_by=None, format=fmt, enqueue=False)
        with CaptureQueriesContext(connection) as queries:
            built = release_build(release_id=release.pk)
        assert built.status == "succeeded", built.error
        rows_per_task = {"reviews": 3, "scores_csv": 3, "preference": 2, "chat": 1}[fmt]  # reviews, corrections, tasks
        assert built.rows_total == rows_per_task * project.seed_tasks.count()
        return len(queries)

    assert queries_for(3) == queries_for(12)


def test_the_card_defines_per_item_agreement(project):
    _accepted(project)

    card = _build(project).card

    assert "share of reviewer pairs whose answers agree exactly" in card
    assert "null with fewer than two reviews" in card


# --- Preference pairs from evaluation rounds ---

X, Y = "model-x", "model-y"


def _vote(slot, winner: str) -> dict:
    """The answers of a reviewer who prefers `winner` (a model name, or "tie") on every question."""
    if winner == "tie":
        return {"overall": "tie", "correctness": "tie", "helpfulness": "tie", "harm": "tie"}
    side = "a" if slot.left_response.model_name == winner else "b"
    other = "b" if side == "a" else "a"
    # "Which is more harmful?" is asked the other way round: the loser is the more harmful answer.
    return {"overall": side, "correctness": side, "helpfulness": side, "harm": other}


def _judged_round(project, curator, votes: dict[str, list[str]], name="Round 1", close=True):
    """A pairwise round of X against Y on one prompt per entry of `votes` (prompt instruction -> the
    winner each reviewer picks, in reviewer order), fully judged."""
    from curation.selectors.round_judging import round_next_slot
    from curation.services.round_judging import judgment_submit
    from curation.services.round_schedules import round_close, round_freeze
    from curation.services.rounds import round_create

    k = max(len(v) for v in votes.values())
    reviewers = ClinicianFactory.create_batch(k)
    for reviewer in reviewers:
        MembershipFactory(project=project, user=reviewer)
    prompts = {}
    for instruction in votes:
        prompt = PromptFactory(project=project, instruction=instruction, input="")
        for model in (X, Y):
            ModelResponseFactory(prompt=prompt, seed_task=None, model_name=model, text=f"{model} on {instruction}")
        prompts[prompt.pk] = instruction
    evaluation_round = round_create(
        project=project,
        created_by=curator,
        name=name,
        mode="pairwise",
        models=[X, Y],
        reviewers=reviewers,
        judgments_per_item=k,
        prompt_ids=list(prompts),
    )
    evaluation_round = round_freeze(evaluation_round=evaluation_round)
    for n, reviewer in enumerate(reviewers):
        while (slot := round_next_slot(evaluation_round=evaluation_round, reviewer=reviewer)) is not None:
            judgment_submit(slot=slot, reviewer=reviewer, answers=_vote(slot, votes[prompts[slot.item.prompt_id]][n]))
    if close:
        evaluation_round = round_close(evaluation_round=evaluation_round)
    return evaluation_round


def _response(instruction, model):
    return ModelResponse.objects.get(prompt__instruction=instruction, model_name=model)


def test_a_round_where_two_of_three_reviewers_prefer_a_model_exports_exactly_that_pair(project, curator):
    evaluation_round = _judged_round(
        project, curator, {"Two prefer X": [X, X, Y], "Split with a tie": [X, Y, "tie"], "All tie": ["tie"] * 3}
    )

    release = _build(project, "preference")

    assert release.row_count == 1
    [pair] = _lines(release)
    chosen, rejected = _response("Two prefer X", X), _response("Two prefer X", Y)
    assert pair["prompt"] == "Two prefer X"
    assert (pair["chosen"], pair["rejected"]) == (chosen.text, rejected.text)
    assert pair["metadata"] == {
        "source": "round",
        "round_id": evaluation_round.pk,
        "round_item_id": pair["metadata"]["round_item_id"],
        "prompt_id": chosen.prompt_id,
        "chosen_response_id": chosen.pk,
        "rejected_response_id": rejected.pk,
        "chosen_model": X,
        "rejected_model": Y,
        "axis": "overall",
        "votes_for": 2,
        "votes_against": 1,
        "judgments": 3,
    }
    assert f"| round {evaluation_round.pk}: Round 1 (closed) | 1 |" in release.card
    assert "| clinician corrections | 0 |" in release.card
    assert "at least 2 judgments" in release.card
    assert "would hold no row" in _refused(project, "preference", filters={"min_reviewers": 4}), (
        "3 judgments are too few"
    )


def test_a_one_one_split_or_a_tie_exports_nothing(project, curator):
    _judged_round(project, curator, {"Split": [X, Y], "Tie": ["tie", "tie"], "Tie and a vote": [X, "tie"]})

    assert "would hold no row" in _refused(project, "preference")


def test_the_releases_page_builds_round_pairs_from_the_round_and_question_chosen(
    client, project, curator, admin_user, django_capture_on_commit_callbacks
):
    chosen_round = _judged_round(project, curator, {"Two prefer Y": [Y, X, Y]}, name="Chosen")
    _judged_round(project, curator, {"Three prefer X": [X, X, X]}, name="Not chosen")
    client.force_login(admin_user)
    url = reverse("release_list", args=[project.slug])
    assert f"#{chosen_round.pk} Chosen (closed)" in client.get(url).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {
                "format": "preference",
                "license": "CC BY-NC 4.0",
                "statuses": ["accepted"],
                "min_reviewers": "0",
                "rounds": [str(chosen_round.pk)],
                "round_axis": "harm",
            },
        )

    assert response.status_code == 302, response.content.decode()
    [pair] = _lines(Release.objects.get())
    assert (pair["metadata"]["round_id"], pair["metadata"]["axis"]) == (chosen_round.pk, "harm")
    assert pair["metadata"]["chosen_model"] == Y


def test_the_releases_page_refuses_a_minimum_agreement_for_pairs_next_to_its_field(client, project, admin_user):
    client.force_login(admin_user)

    response = client.post(
        reverse("release_list", args=[project.slug]),
        {"format": "preference", "license": "CC BY 4.0", "statuses": ["accepted"], "min_reviewers": "0",
         "min_agreement": "0.8"},
    )  # fmt: skip

    assert response.status_code == 400
    assert "applies to the seed-task formats (alpaca, chat) only" in response.content.decode()
    assert not Release.objects.exists()


def test_a_reversed_question_counts_the_less_harmful_answer_as_preferred(project, curator):
    _judged_round(project, curator, {"Two prefer Y": [Y, X, Y]})

    [pair] = _lines(_build(project, "preference", filters={"round_axis": "harm"}))

    assert (pair["metadata"]["chosen_model"], pair["metadata"]["axis"]) == (Y, "harm")
    assert (pair["metadata"]["votes_for"], pair["metadata"]["votes_against"]) == (2, 1)


def test_a_pair_with_a_flagged_response_is_left_out_until_the_flag_is_cleared(project, curator):
    _judged_round(project, curator, {"Flagged": [X, X, Y], "Clean": [Y, Y, X]})
    flag = ItemFlag.objects.create(
        project=project, response=_response("Flagged", Y), kind=FlagKind.PHI, raised_by=curator
    )

    assert [p["prompt"] for p in _lines(_build(project, "preference"))] == ["Clean"]
    ItemFlag.objects.filter(pk=flag.pk).update(cleared_at=timezone.now(), cleared_by=curator)
    assert [p["prompt"] for p in _lines(_build(project, "preference"))] == ["Flagged", "Clean"]


def test_round_pairs_are_in_round_and_item_order_and_a_rebuild_is_byte_identical(project, curator):
    first = _judged_round(project, curator, {f"Prompt {n}": [X, Y, X] if n % 2 else [Y, Y, X] for n in range(6)})
    second = _judged_round(project, curator, {"Later round": [X, X]}, name="Round 2", close=False)

    one, two = _build(project, "preference"), _build(project, "preference")

    assert _data(one) == _data(two) and one.sha256 == two.sha256
    rows = _lines(one)
    order = [(r["metadata"]["round_id"], r["metadata"]["round_item_id"]) for r in rows]
    assert len(order) == 7 and order == sorted(order)
    assert {round_id for round_id, _ in order} == {first.pk, second.pk}, "frozen and closed rounds by default"
    assert {r["metadata"]["chosen_model"] for r in rows if r["prompt"] in ("Prompt 0", "Prompt 1")} == {X, Y}
    assert "Round 2 (frozen) | 1 |" in one.card
    just_first = _lines(_build(project, "preference", filters={"rounds": [first.pk]}))
    assert {r["metadata"]["round_id"] for r in just_first} == {first.pk}


def test_corrections_come_first_and_the_card_counts_pairs_by_source(project, curator):
    evaluation_round = _judged_round(project, curator, {"Prompt": [X, X, Y]})
    response = ModelResponseFactory(seed_task=_accepted(project), text="Start a beta blocker.")
    _correct(project, response, "A thiazide diuretic.")

    release = _build(project, "preference")

    assert [r["metadata"]["source"] for r in _lines(release)] == ["correction", "round"]
    assert release.row_count == release.rows_total == 2
    assert "| clinician corrections | 1 |" in release.card
    assert f"| round {evaluation_round.pk}: Round 1 (closed) | 1 |" in release.card


def test_the_card_of_round_pairs_gives_the_agreement_between_the_rounds_judges(project, curator):
    unanimous = _judged_round(project, curator, {"P1": [X, X], "P2": [Y, Y], "P3": [X, X]})

    card = _build(project, "preference").card

    assert "Between the judges of the evaluation rounds read" in card
    overall_row = f"| round {unanimous.pk}: Round 1 | Overall, which answer is better? | Krippendorff's alpha | 1.000 |"
    assert overall_row in card
    assert "| 3 |" in card.split(overall_row, 1)[1].splitlines()[0], "three items judged twice"


def test_round_filters_refuse_rounds_that_cannot_give_pairs_and_unknown_questions(project, curator):
    from curation.services.rounds import round_create

    judged = _judged_round(project, curator, {"Prompt": [X, X]})
    draft = round_create(
        project=project,
        created_by=curator,
        name="Draft",
        mode="pairwise",
        models=[X, Y],
        reviewers=list(judged.reviewers.all()),
    )

    with pytest.raises(ValidationError) as refused:
        release_create(
            project=project,
            created_by=None,
            format="preference",
            enqueue=False,
            filters={"rounds": [judged.pk, draft.pk, 999999], "round_axis": "bedside_manner"},
        )
    assert f"round(s) {draft.pk}, 999999 are not frozen or closed" in refused.value.message_dict["rounds"][0]
    assert "'bedside_manner' is not a pairwise question" in refused.value.message_dict["round_axis"][0]


def test_export_dataset_command_writes_round_preference_pairs(project, curator, tmp_path):
    from django.core.management import call_command

    evaluation_round = _judged_round(project, curator, {"Two prefer X": [X, Y, X], "Tie": ["tie", X, Y]})
    out, card = tmp_path / "pairs.jsonl", tmp_path / "pairs.README.md"

    call_command(
        "export_dataset", "--project", project.slug, "--format", "preference", "--out", str(out),
        "--card", str(card), "--round", str(evaluation_round.pk), stdout=io.StringIO(),
    )  # fmt: skip

    [pair] = [json.loads(line) for line in out.read_text().splitlines()]
    assert pair["chosen"] == _response("Two prefer X", X).text
    assert pair["metadata"]["source"] == "round" and pair["metadata"]["judgments"] == 3
    assert Release.objects.get().filters["rounds"] == [evaluation_round.pk]
    assert "Preference pairs by source" in card.read_text()


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


def test_a_succeeded_release_is_immutable(project):
    _accepted(project)
    release = _build(project)

    with pytest.raises(ReleaseNotRetryable):
        release_retry(release_id=release.pk, actor=None, enqueue=False)
    again = release_build(release_id=release.pk)
    assert (again.sha256, again.attempts, again.finished_at) == (release.sha256, 1, release.finished_at)


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


# --- The forms behind the rows ---


def _second_form(project):
    return RatingSchema.objects.create(
        project=project, name="Second look", target=SchemaTarget.SEED_TASK, definition=SEED_REVIEW
    )


def test_the_manifest_lists_the_forms_of_the_released_tasks_reviews_not_of_those_held_back(project):
    released, held = _accepted(project), _accepted(project)
    _review(released)
    review_submit(reviewer=ClinicianFactory(), schema=_second_form(project), seed_task=held, answers=_seed_answers())
    ItemFlag.objects.create(project=project, seed_task=held, kind=FlagKind.UNSAFE)

    release = _build(project)

    assert [row["metadata"]["task_id"] for row in _lines(release)] == [released.pk]
    assert [form["name"] for form in release.schema_versions] == ["Seed review"]


def test_the_manifest_lists_the_form_behind_a_task_the_minimum_agreement_drops(project):
    kept, dropped = _accepted(project), _accepted(project)
    _review(kept)
    _review(kept)
    review_submit(reviewer=ClinicianFactory(), schema=_second_form(project), seed_task=dropped, answers=_seed_answers())

    release = _build(project, filters={"min_agreement": 0.5})

    assert [row["metadata"]["task_id"] for row in _lines(release)] == [kept.pk]
    assert [form["name"] for form in release.schema_versions] == ["Second look", "Seed review"]


def test_a_task_held_back_does_not_count_its_reviews_on_the_card_or_lend_them_to_the_next_task(project):
    held, released = _accepted(project), _accepted(project)
    for _ in range(3):
        _review(held)
    ItemFlag.objects.create(project=project, seed_task=held, kind=FlagKind.UNSAFE)
    _review(released)

    release = _build(project)

    (row,) = _lines(release)
    assert row["metadata"]["task_id"] == released.pk
    assert (row["metadata"]["reviewers"], row["metadata"]["agreement"]) == (1, None)
    assert "Current reviews behind these rows: 1 by 1 reviewers" in release.card
    assert "Held back: 1 seed task(s)" in release.card


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
    out.parent.mkdir()
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


def test_the_release_manifest_file_holds_the_audit_trails_head_as_the_build_saw_it(project, admin_user, clinician):
    from audit.selectors import audit_chain_head

    task = seed_task_create(
        project=project, created_by=clinician, instruction="Name two causes of syncope.", reference_output="Vasovagal."
    )
    seed_task_set_status(task_id=task.pk, actor=admin_user, status=TaskStatus.ACCEPTED, rationale="Reviewed")
    head = audit_chain_head()

    release = _build(project, user=admin_user)

    manifest = json.loads((Path(settings.MEDIA_ROOT) / release.file_path).with_name("manifest.json").read_text())
    assert manifest["audit_chain_head"]["id"] >= head["id"] > 0
    assert manifest["sha256"] == release.sha256 and manifest["row_count"] == 1
