import pytest
from django.core.exceptions import ValidationError

from curation.models import RubricGrade, RubricStatus
from curation.selectors.rubrics import (
    criterion_agreement,
    rubric_criteria,
    rubric_current_version,
    rubric_leaderboard,
    rubric_responses_to_grade,
)
from curation.services.rubrics import (
    CriterionInput,
    consensus_criterion_create,
    rubric_accept,
    rubric_create,
    rubric_edit,
    rubric_grade_submit,
    rubric_submit,
)
from tests.factories import ClinicianFactory
from tests.rubrics.conftest import CRITERIA


def _marks(rubric, *met):
    criteria = rubric_criteria(version=rubric_current_version(rubric=rubric))
    return {c.pk: m for c, m in zip(criteria, met, strict=True)}


def test_an_edit_makes_a_new_version_with_its_rationale_and_keeps_the_old(prompt, clinician):
    rubric = rubric_create(prompt=prompt, author=clinician, criteria=CRITERIA)
    edited = rubric_edit(
        rubric_id=rubric.pk,
        editor=clinician,
        expected_version=1,
        criteria=CRITERIA[:2],
        rationale="the aspirin criterion belongs to another prompt",
    )
    assert edited.version == 2
    old, new = sorted(edited.versions.all(), key=lambda v: v.number)
    assert old.criteria.count() == 4 and new.criteria.count() == 2
    assert new.rationale == "the aspirin criterion belongs to another prompt"


def test_an_edit_needs_a_rationale_and_the_version_it_started_from(prompt, clinician):
    rubric = rubric_create(prompt=prompt, author=clinician, criteria=CRITERIA)
    with pytest.raises(ValidationError, match="why"):
        rubric_edit(rubric_id=rubric.pk, editor=clinician, expected_version=1, criteria=CRITERIA, rationale=" ")
    with pytest.raises(ValidationError, match="version 1 meanwhile"):
        rubric_edit(rubric_id=rubric.pk, editor=clinician, expected_version=0, criteria=CRITERIA, rationale="x")


@pytest.mark.parametrize(
    ("criterion", "message"),
    [
        (CriterionInput(text="x", points=0, axis="accuracy"), "not 0"),
        (CriterionInput(text="x", points=11, axis="accuracy"), "between -10 and 10"),
        (CriterionInput(text="x", points=3, axis="tone"), "axis must be one of"),
        (CriterionInput(text="x", points=3, axis="accuracy", level="cluster"), "names its cluster"),
    ],
)
def test_a_bad_criterion_is_refused_naming_it(prompt, clinician, criterion, message):
    with pytest.raises(ValidationError, match=message) as error:
        rubric_create(prompt=prompt, author=clinician, criteria=[CRITERIA[0], criterion])
    assert "criterion 2" in error.value.message_dict


def test_the_author_cannot_accept_their_own_rubric_a_second_clinician_can(prompt, clinician, reviewer):
    rubric = rubric_create(prompt=prompt, author=clinician, criteria=CRITERIA)
    rubric_submit(rubric_id=rubric.pk, author=clinician)
    with pytest.raises(ValidationError, match="second clinician"):
        rubric_accept(rubric_id=rubric.pk, reviewer=clinician)
    accepted = rubric_accept(rubric_id=rubric.pk, reviewer=reviewer)
    assert accepted.status == RubricStatus.ACCEPTED and accepted.reviewed_by == reviewer


def test_a_reviewers_edit_with_rationale_accepts_it_and_a_later_edit_goes_back_to_review(prompt, clinician, reviewer):
    rubric = rubric_create(prompt=prompt, author=clinician, criteria=CRITERIA)
    rubric_submit(rubric_id=rubric.pk, author=clinician)
    rubric = rubric_edit(
        rubric_id=rubric.pk, editor=reviewer, expected_version=1, criteria=CRITERIA[:3], rationale="duplicate"
    )
    assert rubric.status == RubricStatus.ACCEPTED and rubric.reviewed_by == reviewer
    rubric = rubric_edit(
        rubric_id=rubric.pk, editor=clinician, expected_version=2, criteria=CRITERIA, rationale="put it back"
    )
    assert rubric.status == RubricStatus.IN_REVIEW and rubric.reviewed_by is None


def test_a_criterion_picked_from_the_library_takes_the_librarys_wording(project, prompt, clinician):
    entry = consensus_criterion_create(
        project=project, cluster="emergency_referrals", text="Refers to emergency care", points=9, axis="accuracy"
    )
    rubric = rubric_create(
        prompt=prompt,
        author=clinician,
        criteria=[CriterionInput(text="", points=1, axis="accuracy", consensus_id=entry.pk)],
    )
    (criterion,) = rubric_criteria(version=rubric_current_version(rubric=rubric))
    assert (criterion.text, criterion.points, criterion.level, criterion.cluster) == (
        "Refers to emergency care",
        9,
        "cluster",
        "emergency_referrals",
    )
    assert criterion.tags == ["level:cluster", "cluster:emergency_referrals", "axis:accuracy"]


def test_a_grade_marks_every_criterion_once_and_is_final(accepted_rubric, responses, clinician):
    response = responses["model-a"]
    with pytest.raises(ValidationError, match="criteria \\[4\\] have no mark"):
        rubric_grade_submit(
            response=response, grader=clinician, marks=dict(list(_marks(accepted_rubric, 1, 1, 0, 0).items())[:3])
        )
    rubric_grade_submit(response=response, grader=clinician, marks=_marks(accepted_rubric, True, True, False, False))
    with pytest.raises(ValidationError, match="already graded"):
        rubric_grade_submit(response=response, grader=clinician, marks=_marks(accepted_rubric, 1, 1, 1, 1))
    assert list(rubric_responses_to_grade(project=accepted_rubric.project, grader=clinician)) == [responses["model-b"]]


def test_a_draft_rubric_cannot_be_graded(prompt, clinician, responses):
    rubric = rubric_create(prompt=prompt, author=clinician, criteria=CRITERIA)
    with pytest.raises(ValidationError, match="no accepted rubric"):
        rubric_grade_submit(response=responses["model-a"], grader=clinician, marks=_marks(rubric, 1, 1, 0, 0))


def test_leaderboard_scores_each_model_on_the_clinicians_majority(accepted_rubric, responses, clinician, reviewer):
    third = ClinicianFactory()
    # model-a: criteria 1 and 2 met by all; the -6 criterion met by one of three (not the majority).
    for grader, met in ((clinician, (1, 1, 0, 0)), (reviewer, (1, 1, 1, 0)), (third, (1, 1, 0, 0))):
        rubric_grade_submit(
            response=responses["model-a"], grader=grader, marks=_marks(accepted_rubric, *map(bool, met))
        )
    # model-b: only the negative criterion met: (-6) / (8 + 4 + 5) is below 0, the set score clips to 0.
    rubric_grade_submit(
        response=responses["model-b"], grader=clinician, marks=_marks(accepted_rubric, False, False, True, False)
    )
    board = rubric_leaderboard(project=accepted_rubric.project, draws=50)
    assert [s.model for s in board] == ["model-a", "model-b"]
    assert board[0].overall.value == pytest.approx(12 / 17)
    assert board[1].overall.value == 0.0
    assert board[0].by_tag["axis:context_awareness"].value == pytest.approx(4 / 9)
    assert RubricGrade.objects.count() == 4


def test_clinician_agreement_per_criterion_counts_only_clinicians(accepted_rubric, responses, clinician, reviewer):
    for response in responses.values():
        rubric_grade_submit(
            response=response, grader=clinician, marks=_marks(accepted_rubric, True, True, False, False)
        )
        rubric_grade_submit(
            response=response, grader=reviewer, marks=_marks(accepted_rubric, True, False, False, False)
        )
    agreement = criterion_agreement(project=accepted_rubric.project, draws=50)
    # 8 units, each with two marks; they disagree on criterion 2 of both responses: 6 of 8 agree.
    assert agreement["all"]["n_units"] == 8
    assert agreement["all"]["percent_agreement"]["value"] == pytest.approx(0.75)
    criteria = rubric_criteria(version=rubric_current_version(rubric=accepted_rubric))
    assert agreement[f"criterion:{criteria[1].pk}"]["percent_agreement"]["value"] == 0.0
