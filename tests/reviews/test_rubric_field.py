"""A response-review form may grade the response's own physician rubric (a `rubric` field with
`"criteria_from": "prompt"`): the review page shows the prompt's accepted criteria blind, and the marks
become the reviewer's rubric grade, recorded with the review, where scores and agreement read them."""

import re
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from curation.models import Review, RubricGrade, RubricStatus
from curation.selectors.rubrics import criterion_agreement, rubric_criteria, rubric_current_version, rubric_leaderboard
from curation.services.projects import rating_form_update
from curation.services.rubrics import (
    rubric_accept,
    rubric_create,
    rubric_edit,
    rubric_grade_submit,
    rubric_settings_of,
    rubric_submit,
)
from tests.factories import (
    AssignmentFactory,
    ClinicianFactory,
    MembershipFactory,
    ModelResponseFactory,
    PromptFactory,
)
from tests.rubrics.conftest import CRITERIA

GRADED = {"key": "rubric", "label": "Physician rubric", "kind": "rubric", "criteria_from": "prompt", "required": True}
FORM = {
    "fields": [
        {"key": "overall", "label": "Overall", "kind": "ordinal_scale", "min": 1, "max": 5, "required": True},
        GRADED,
    ]
}
MODELS = ("secret-model-alpha", "secret-model-beta")


@pytest.fixture
def second(project):
    user = ClinicianFactory(email="second@example.org")
    MembershipFactory(project=project, user=user)
    return user


@pytest.fixture
def graded_form(project, curator):
    return rating_form_update(project=project, target="response", definition=FORM, actor=curator)


def accepted_rubric_for(prompt, author, reviewer):
    rubric = rubric_create(prompt=prompt, author=author, criteria=CRITERIA)
    rubric_submit(rubric_id=rubric.pk, author=author)
    return rubric_accept(rubric_id=rubric.pk, reviewer=reviewer)


@pytest.fixture
def prompt(project):
    return PromptFactory(project=project, external_id="chest-pain", instruction="I have chest pain. What now?")


@pytest.fixture
def rubric(prompt, clinician, second):
    return accepted_rubric_for(prompt, clinician, second)


@pytest.fixture
def criteria(rubric):
    return rubric_criteria(version=rubric_current_version(rubric=rubric))


@pytest.fixture
def responses(prompt):
    return {
        m: ModelResponseFactory(prompt=prompt, seed_task=None, model_name=m, text=f"Call 999 ({m[-4:]}).")
        for m in MODELS
    }


@pytest.fixture
def assignment(graded_form, responses, clinician):
    return AssignmentFactory(seed_task=None, response=responses[MODELS[0]], reviewer=clinician)


def item_url(assignment):
    return reverse("review_item", args=[assignment.project.slug, assignment.pk])


def posted(marks: dict[int, bool], overall: int = 4, key: str | None = None) -> dict:
    data = {"a-overall": str(overall), "submission_key": key or str(uuid.uuid4())}
    data.update({f"a-rubric.{pk}": "1" if met else "0" for pk, met in marks.items()})
    return data


def test_the_review_page_shows_each_criterion_of_the_prompts_rubric_blind(client, assignment, criteria, second):
    rubric_grade_submit(response=assignment.response, grader=second, marks={c.pk: True for c in criteria})
    client.force_login(assignment.reviewer)
    page = client.get(item_url(assignment)).content.decode()
    for c in criteria:
        assert c.text in page
        assert f'name="a-rubric.{c.pk}" value="1"' in page and f'name="a-rubric.{c.pk}" value="0"' in page
    assert page.count('data-testid="rubric-criterion"') == len(criteria)
    assert page.count('data-testid="points"') == len(criteria)
    # Blind: neither the model nor another grader's marks.
    assert "secret-model" not in page
    assert not re.search(r'name="a-rubric\.\d+" value="[01]" checked', page)


def test_points_are_hidden_when_the_project_hides_them_from_graders(client, project, assignment, criteria):
    settings = rubric_settings_of(project=project)
    settings.show_points_to_graders = False
    settings.save(update_fields=["show_points_to_graders"])
    client.force_login(assignment.reviewer)
    page = client.get(item_url(assignment)).content.decode()
    assert criteria[0].text in page and 'data-testid="points"' not in page


def test_submitting_records_the_marks_as_the_reviewers_rubric_grade_with_the_review(client, assignment, criteria):
    client.force_login(assignment.reviewer)
    marks = {c.pk: c.points > 0 for c in criteria}
    response = client.post(item_url(assignment), posted(marks))
    assert response.status_code == 302
    grade = RubricGrade.objects.get(grader=assignment.reviewer)
    assert grade.response == assignment.response and grade.rubric_version.number == 1
    assert dict(grade.marks.values_list("criterion_id", "met")) == marks
    review = Review.objects.get(reviewer=assignment.reviewer)
    assert review.answers == {"overall": 4, "rubric": [str(c.pk) for c in criteria if c.points > 0]}


def test_grades_given_in_reviews_count_in_scores_and_in_agreement_per_criterion(
    project, graded_form, responses, criteria, clinician, second
):
    for reviewer, flip in ((clinician, False), (second, True)):
        for response in responses.values():
            assignment = AssignmentFactory(seed_task=None, response=response, reviewer=reviewer)
            from curation.services.reviews import review_submit_for_assignment

            marks = {str(c.pk): (c.order == 0) != (flip and c.order == 1) for c in criteria}
            review_submit_for_assignment(
                assignment_id=assignment.pk, reviewer=reviewer, answers={"overall": 3, "rubric": marks}
            )
    board = {scores.model: scores for scores in rubric_leaderboard(project=project, draws=50)}
    assert set(board) == set(MODELS) and board[MODELS[0]].overall.n == 1
    # The first criterion (8 of 17 positive points) is met by both clinicians; the second only by one,
    # so the majority (a tie counts as not met) leaves it out: 8 / 17.
    assert board[MODELS[0]].overall.value == pytest.approx(8 / 17)
    agreement = criterion_agreement(project=project, draws=50)
    assert agreement["all"]["n_units"] == 2 * len(criteria)
    assert agreement[f"criterion:{criteria[1].pk}"]["percent_agreement"]["value"] == 0


def test_unmarked_criteria_are_named_beside_the_field_and_nothing_is_saved(client, assignment, criteria):
    client.force_login(assignment.reviewer)
    response = client.post(item_url(assignment), posted({criteria[0].pk: True, criteria[2].pk: False}))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Physician rubric must mark every criterion met or not met; criteria 2, 4 have no mark" in page
    assert f'name="a-rubric.{criteria[0].pk}" value="1" checked' in page  # what was marked stays marked
    assert not RubricGrade.objects.exists() and not Review.objects.exists()


def test_a_response_without_an_accepted_rubric_shows_a_note_and_needs_no_marks(client, assignment, rubric, criteria):
    rubric_edit(
        rubric_id=rubric.pk, editor=assignment.reviewer, expected_version=1, criteria=CRITERIA[:2], rationale="shorter"
    )  # an accepted rubric edited goes back to review
    rubric.refresh_from_db()
    assert rubric.status == RubricStatus.IN_REVIEW
    client.force_login(assignment.reviewer)
    page = client.get(item_url(assignment)).content.decode()
    assert 'data-testid="rubric-note"' in page and "has no accepted rubric" in page
    assert 'data-testid="rubric-criterion"' not in page
    assert client.post(item_url(assignment), posted({})).status_code == 302
    assert Review.objects.get().answers == {"overall": 4} and not RubricGrade.objects.exists()


def test_marks_already_given_are_final_on_the_review_page_and_kept_by_the_review(client, assignment, criteria):
    marks = {c.pk: c.order % 2 == 0 for c in criteria}
    rubric_grade_submit(response=assignment.response, grader=assignment.reviewer, marks=marks)
    client.force_login(assignment.reviewer)
    page = client.get(item_url(assignment)).content.decode()
    assert f'name="a-rubric.{criteria[0].pk}" value="1" checked disabled' in page
    assert "Your marks are final" in page
    # Disabled inputs post nothing: the review keeps the grade's marks.
    assert client.post(item_url(assignment), posted({})).status_code == 302
    assert Review.objects.get().answers["rubric"] == [str(c.pk) for c in criteria if marks[c.pk]]
    assert RubricGrade.objects.count() == 1
    # A new version of the review with different marks is refused, naming the field.
    refused = client.post(item_url(assignment), posted({c.pk: True for c in criteria}))
    assert refused.status_code == 400
    assert "Physician rubric keeps the marks you gave this response on" in refused.content.decode()


def test_a_draft_keeps_the_marks_met_and_not_met(client, assignment, criteria):
    client.force_login(assignment.reviewer)
    draft_url = reverse("review_draft", args=[assignment.project.slug, assignment.pk])
    client.post(draft_url, {f"a-rubric.{criteria[0].pk}": "0", f"a-rubric.{criteria[1].pk}": "1"})
    assignment.refresh_from_db()
    assert assignment.draft.answers == {"rubric": {str(criteria[0].pk): False, str(criteria[1].pk): True}}
    page = client.get(item_url(assignment)).content.decode()
    assert f'name="a-rubric.{criteria[0].pk}" value="0" checked' in page
    assert f'name="a-rubric.{criteria[1].pk}" value="1" checked' in page


def test_the_api_takes_the_marks_by_criterion_id_and_names_the_field_it_refuses(client, assignment, criteria):
    client.force_login(assignment.reviewer)
    url = reverse("api_review_submit", args=[assignment.project.slug])
    body = {"assignment": assignment.pk, "submission_key": str(uuid.uuid4())}
    refused = client.post(
        url, {**body, "answers": {"overall": 2, "rubric": {str(criteria[0].pk): True}}}, content_type="application/json"
    )
    assert refused.status_code == 400
    assert "criteria 2, 3, 4 have no mark" in refused.json()["answers"]["rubric"][0]
    marks = {str(c.pk): True for c in criteria}
    done = client.post(url, {**body, "answers": {"overall": 2, "rubric": marks}}, content_type="application/json")
    assert done.status_code == 201 and done.json()["answers"]["rubric"] == [str(c.pk) for c in criteria]
    assert RubricGrade.objects.get().marks.filter(met=True).count() == len(criteria)


def _grow(project, clinician, second, n):
    """n more prompts, each with an accepted rubric, two answers, an assignment and a grade of one answer."""
    for _ in range(n):
        prompt = PromptFactory(project=project)
        rubric = accepted_rubric_for(prompt, clinician, second)
        version = rubric_current_version(rubric=rubric)
        answers = [ModelResponseFactory(prompt=prompt, seed_task=None, model_name=m) for m in MODELS]
        AssignmentFactory(seed_task=None, response=answers[0], reviewer=clinician)
        rubric_grade_submit(response=answers[1], grader=second, marks={c.pk: True for c in version.criteria.all()})


def test_the_review_page_with_a_rubric_costs_the_same_with_3_and_30_rubrics(client, project, assignment, second):
    client.force_login(assignment.reviewer)
    url = item_url(assignment)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    _grow(project, assignment.reviewer, second, 3)
    count()
    small = count()
    _grow(project, assignment.reviewer, second, 27)
    assert count() == small


def test_a_seed_review_form_cannot_grade_a_prompts_rubric(project, curator):
    with pytest.raises(ValidationError) as raised:
        rating_form_update(project=project, target="seed_task", definition=FORM, actor=curator)
    assert "a seed task has no prompt rubric to grade" in raised.value.messages[0]


def test_the_form_editor_offers_the_prompts_rubric_as_the_source_of_criteria(client, project, curator):
    from tests.projects.test_rating_form_editor import editor_post

    client.force_login(curator)
    url = reverse("rating_form_edit", args=[project.slug, "response"])
    data = editor_post([{"key": "grading", "label": "Rubric", "kind": "rubric", "criteria": []}])
    data["f-0-criteria_from"] = "prompt"
    preview = client.post(reverse("rating_form_preview", args=[project.slug, "response"]), data).content.decode()
    assert "criteria come from its prompt&#x27;s accepted rubric" in preview
    editor = client.post(url, {**data, "action": "refresh"}).content.decode()
    assert '<option value="prompt" selected>' in editor and 'name="f-0-criteria"' not in editor
    assert client.post(url, {**data, "action": "save"}).status_code == 302
    project.refresh_from_db()
    assert project.response_schema.fields == [
        {"key": "grading", "label": "Rubric", "kind": "rubric", "required": False, "criteria_from": "prompt"}
    ]


def test_review_agreement_and_adjudication_read_the_graded_field_without_its_criteria(
    project, graded_form, responses, criteria, clinician, second
):
    from curation.selectors.adjudication_item import display_value
    from curation.services.agreement import project_agreement_compute
    from curation.services.reviews import review_submit_for_assignment
    from curation.stats.disagreement import field_disagreement, majority_answers

    reviews = []
    for reviewer, met in ((clinician, {0}), (second, {0, 1})):
        assignment = AssignmentFactory(seed_task=None, response=responses[MODELS[0]], reviewer=reviewer)
        marks = {str(c.pk): c.order in met for c in criteria}
        reviews.append(
            review_submit_for_assignment(
                assignment_id=assignment.pk, reviewer=reviewer, answers={"overall": 3, "rubric": marks}
            )
        )
    report = next(
        s for s in project_agreement_compute(project=project, draws=20)["schemas"] if s["schema_id"] == graded_form.pk
    )
    assert [f["key"] for f in report["fields"]] == ["overall"]
    assert report["skipped"][0]["key"] == "rubric" and "rubric results page" in report["skipped"][0]["reason"]
    answers = [r.answers for r in reviews]
    disputed = field_disagreement(field=GRADED, answers=answers, rule="any", min_spread=1)
    assert disputed is not None and disputed.key == "rubric"
    assert majority_answers(fields=[GRADED], answers=answers) == {"rubric": [str(criteria[0].pk)]}
    assert display_value(GRADED, [str(criteria[0].pk)]) == str(criteria[0].pk)
