"""Rubric grading inside the review form and inside an evaluation round, in the browser: a clinician grades a
response's own physician rubric on the review page with the keyboard; a curator sets up a round whose
question is rubric grading; two clinicians grade its responses blind on the judging page; the curator
reads the round's rubric leaderboard."""

import pytest
from django.urls import reverse

from curation.models import EvaluationRound, Judgment, Review, RubricGrade, RubricStatus
from curation.services.projects import rating_form_update
from curation.services.rubrics import CriterionInput, RubricInput, rubric_accept, rubric_create, rubric_submit
from tests.e2e.conftest import sign_in, wait_until
from tests.factories import (
    AssignmentFactory,
    ClinicianFactory,
    CuratorFactory,
    MembershipFactory,
    ModelResponseFactory,
    ProjectFactory,
    PromptFactory,
)
from tests.markers import needs_browser

pytestmark = [pytest.mark.browser, needs_browser]
MODELS = ("model-careful", "model-brief")
CRITERIA = [
    CriterionInput(text="Tells the parent to seek care if the fever lasts over three days", points=8, axis="accuracy"),
    CriterionInput(text="Advises fluids and rest", points=4, axis="completeness"),
    CriterionInput(text="Recommends aspirin for a child", points=-8, axis="accuracy"),
    CriterionInput(text="Asks the child's age", points=3, axis="context_awareness"),
]
ANSWERS = {
    MODELS[0]: "Give paracetamol at the dose for her weight, plenty of fluids and rest; see a doctor if it lasts.",
    MODELS[1]: "Aspirin will bring it down.",
}
# The keys a clinician presses on each criterion, by model: the careful answer meets every positive
# criterion but the age question; the brief one recommends aspirin and nothing else.
KEYS = {MODELS[0]: ("y", "1", "n", "0"), MODELS[1]: ("n", "0", "y", "n")}


@pytest.fixture
def world(transactional_db):
    project = ProjectFactory(slug="paediatrics", name="Paediatric fevers")
    ana, ben = (
        ClinicianFactory(email="ana@example.org", name="Ana"),
        ClinicianFactory(email="ben@example.org", name="Ben"),
    )
    for user in (ana, ben):
        MembershipFactory(project=project, user=user)
    curator = CuratorFactory(email="curator@example.org")
    responses = {}
    for key, theme in (("fever-toddler", "emergency_referrals"), ("fever-infant", "hedging")):
        prompt = PromptFactory(project=project, external_id=key, instruction=f"My child ({key}) has a fever of 39 °C.")
        rubric = rubric_create(
            prompt=prompt, author=ana, criteria=CRITERIA, row=RubricInput(example_tags=[f"theme:{theme}"])
        )
        rubric_submit(rubric_id=rubric.pk, author=ana)
        rubric_accept(rubric_id=rubric.pk, reviewer=ben)
        for model in MODELS:
            responses[(key, model)] = ModelResponseFactory(
                prompt=prompt, seed_task=None, model_name=model, text=ANSWERS[model]
            )
    form = {
        "fields": [
            {
                "key": "overall",
                "label": "Overall quality",
                "kind": "ordinal_scale",
                "min": 1,
                "max": 5,
                "required": True,
            },
            {
                "key": "rubric",
                "label": "Physician rubric",
                "kind": "rubric",
                "criteria_from": "prompt",
                "required": True,
            },
        ]
    }
    rating_form_update(project=project, target="response", definition=form, actor=curator)
    return project, ana, ben, curator, responses


def test_a_clinician_grades_the_prompts_rubric_inside_the_review_form(live_server, page, screenshot, world):
    project, ana, _, _, responses = world
    assignment = AssignmentFactory(seed_task=None, response=responses[("fever-toddler", MODELS[0])], reviewer=ana)
    sign_in(page, live_server, ana.email)
    page.goto(live_server.url + reverse("review_item", args=[project.slug, assignment.pk]))
    field = page.get_by_test_id("rubric-field")
    field.wait_for()
    assert field.get_by_test_id("rubric-criterion").count() == len(CRITERIA)
    assert MODELS[0] not in page.content() and "model-" not in page.content()
    wait_until(page, "() => document.activeElement && document.activeElement.closest('#field-overall')")

    page.keyboard.press("4")  # the scale, then j to the rubric's first criterion
    page.keyboard.press("j")
    for key in KEYS[MODELS[0]]:
        page.keyboard.press(key)
    marked = page.locator("[data-testid=rubric-criterion] input:checked").evaluate_all("els => els.map(e => e.value)")
    assert marked == ["1", "1", "0", "0"]
    screenshot("rubric-review-form")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(lambda url: f"/review/{assignment.pk}/" not in url)

    grade = RubricGrade.objects.get(grader=ana)
    assert [m.met for m in grade.marks.order_by("criterion__order")] == [True, True, False, False]
    assert Review.objects.get(reviewer=ana).answers["overall"] == 4


def judge_round(page, live_server, evaluation_round, clinician, screenshot=None):
    sign_in(page, live_server, clinician.email)
    page.goto(live_server.url + reverse("round_judge", args=[evaluation_round.project.slug, evaluation_round.pk]))
    for n in range(4):
        progress = page.get_by_test_id("judge-progress")
        progress.filter(has_text=f"{n} of 4").wait_for()
        wait_until(page, "() => document.activeElement && document.activeElement.closest('[data-kind=criterion]')")
        html = page.content()
        assert all(model not in html for model in MODELS), "a model is named on the judging page"
        answer = page.get_by_test_id("answer").inner_text()
        model = next(m for m in MODELS if ANSWERS[m].split()[0] in answer)
        for key in KEYS[model]:
            page.keyboard.press(key)
        if screenshot and n == 0:
            screenshot("rubric-round-judging")
        page.keyboard.press("Control+Enter")
    page.get_by_text("All done").wait_for()


def test_a_round_graded_on_rubrics_gives_a_leaderboard(live_server, page, screenshot, world):
    project, ana, ben, curator, _ = world
    base = live_server.url

    sign_in(page, live_server, curator.email)
    page.goto(base + reverse("round_create", args=[project.slug]))
    page.get_by_label("Name").fill("Fever rubric round")
    page.get_by_label("Absolute: rate one response at a time").check()
    page.get_by_label("Each prompt's physician rubric").check()
    for model in MODELS:
        page.get_by_label(f"{model} (version 0.3): 2 prompts").check()
    page.get_by_label("Judgments per item").fill("2")
    for clinician in (ana, ben):
        page.get_by_label(f"{clinician.name} ({clinician.email})").check()
    page.get_by_role("button", name="Set up the round").click()
    page.get_by_text("Round set up with 2 prompts").wait_for()
    assert "physician rubric" in page.get_by_test_id("round-question").inner_text()
    page.get_by_role("button", name="Freeze and open judging").click()
    page.get_by_text("Frozen: the schedule is set").wait_for()
    evaluation_round = EvaluationRound.objects.get(name="Fever rubric round")
    assert evaluation_round.grades_rubric and evaluation_round.slots.count() == 2 * 2 * 2

    judge_round(page, live_server, evaluation_round, ana, screenshot)
    judge_round(page, live_server, evaluation_round, ben)
    assert Judgment.objects.filter(rubric_grade__isnull=False).count() == 8
    assert all(g.rubric_version.rubric.status == RubricStatus.ACCEPTED for g in RubricGrade.objects.all())

    sign_in(page, live_server, curator.email)
    page.goto(base + reverse("round_results", args=[project.slug, evaluation_round.pk]))
    board = page.get_by_test_id("rubric-leaderboard")
    board.wait_for()
    rows = board.locator("tbody tr")
    # Careful: (8 + 4) / 15 on both prompts = 0.80; brief: -8 / 15, kept below 0 per response, clipped to 0 as a mean.
    assert rows.nth(0).inner_text().startswith(f"1\t{MODELS[0]}\t0.80")
    assert rows.nth(1).inner_text().startswith(f"2\t{MODELS[1]}\t0.00")
    header = board.locator("thead").inner_text()
    assert "Accuracy" in header and "Emergency referrals" in header and "Hedging" in header
    screenshot("rubric-round-leaderboard")
