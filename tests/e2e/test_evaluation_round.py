"""Done-when of the evaluation rounds: a pairwise round over real MedInstruct test prompts and three
real model-output files is set up and frozen by a curator in the browser, judged blind by two
clinicians, and its results page shows Bradley-Terry ratings with confidence intervals; the items
both clinicians decided the same way export as preference pairs.

Data: AlpaCare / MedInstruct (CC BY-NC 4.0), read in place from ../shared/data/alpacare/.
"""

import json
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from curation.models import EvaluationRound, Judgment, RoundStatus
from curation.services.imports import import_file
from curation.services.round_schedules import round_freeze
from curation.services.rounds import round_create
from tests.data import MODEL_OUTPUTS_DIR, TEST_SET
from tests.factories import ClinicianFactory, CuratorFactory, MembershipFactory, ProjectFactory
from tests.markers import needs_alpacare, needs_browser

MODELS = ("AlpaCare-7b", "alpaca", "medalpaca-13b")
PASSWORD = "a-long-test-password"

pytestmark = [
    pytest.mark.browser,
    needs_browser,
    needs_alpacare,
]


@pytest.fixture
def world(transactional_db):
    project = ProjectFactory(name="MedInstruct evaluation", slug="medinstruct")
    curator = CuratorFactory(email="curator@example.org", name="Cora Curator")
    clinicians = [
        ClinicianFactory(email="ana@example.org", name="Ana Clinician"),
        ClinicianFactory(email="ben@example.org", name="Ben Clinician"),
    ]
    for clinician in clinicians:
        MembershipFactory(project=project, user=clinician)
    job = import_file(project=project, path=TEST_SET, created_by=curator, format="medinstruct_test")
    assert job.status == "succeeded", job.report
    for model in MODELS:
        job = import_file(
            project=project,
            path=MODEL_OUTPUTS_DIR / f"{model}.json",
            created_by=curator,
            format="model_outputs",
            model_name=model,
        )
        assert job.status == "succeeded", job.report
    return project, curator, clinicians


def sign_in(page, base_url, user):
    page.context.clear_cookies()
    page.goto(base_url + "/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def checked_values(page, axis):
    return set(page.locator(f"#field-{axis} input:checked").evaluate_all("els => els.map(e => e.value)"))


def check_the_shortcuts_list(page):
    """'?' lists the keys the page answers to, the review pages' keys; Esc closes the list."""
    page.keyboard.press("?")
    shortcuts = page.get_by_test_id("shortcuts")
    shortcuts.wait_for()
    text = shortcuts.inner_text()
    assert "Next / previous question" in text and "Choose that value" in text and "Submit" in text
    page.keyboard.press("Escape")
    shortcuts.wait_for(state="hidden")
    page.locator("#field-overall input").first.focus()


def test_two_then_j_twice_answers_two_consecutive_questions_on_the_judge_page(live_server, page, world):
    """The review pages' habit: "2, j, 2, j" is B on one question, B on the next, and the third next."""
    project, curator, (ana, _) = world
    evaluation_round = round_create(
        project=project,
        created_by=curator,
        name="Keys",
        mode="pairwise",
        models=list(MODELS[:2]),
        reviewers=[ana],
        judgments_per_item=1,
        sample_size=1,
        seed=3,
    )
    round_freeze(evaluation_round=evaluation_round)
    sign_in(page, live_server.url, ana)
    page.goto(live_server.url + reverse("round_judge", args=[project.slug, evaluation_round.pk]))
    page.locator("#field-overall input").first.focus()

    for key in ("2", "j", "2", "j"):
        page.keyboard.press(key)

    assert checked_values(page, "overall") == {"b"}
    assert checked_values(page, "correctness") == {"b"}
    assert not checked_values(page, "helpfulness") and not checked_values(page, "harm")
    assert page.locator("#field-helpfulness input:focus").count() == 1
    page.keyboard.press("k")
    page.keyboard.press("1")
    assert checked_values(page, "correctness") == {"a"}


def test_a_round_over_real_prompts_is_set_up_judged_blind_and_ranked(
    live_server, page, screenshot, world, settings, tmp_path
):
    project, curator, (ana, ben) = world
    base = live_server.url

    # The curator sets up a pairwise round on a seeded sample of the real prompts and freezes it.
    sign_in(page, base, curator)
    page.goto(base + reverse("round_list", args=[project.slug]))
    page.get_by_role("link", name="Set up a round").click()
    page.get_by_label("Name").fill("MedInstruct pilot")
    page.get_by_label("Pairwise: compare two responses side by side").check()
    for model in MODELS:
        page.get_by_label(f"{model}: 216 prompts").check()
    page.get_by_label("Reference model (optional)").select_option("AlpaCare-7b")
    page.get_by_label("A random sample of them").check()
    page.get_by_label("Sample size").fill("3")
    page.get_by_label("Seed").fill("7")
    page.get_by_label("Judgments per item").fill("2")
    for clinician in (ana, ben):
        page.get_by_label(f"{clinician.name} ({clinician.email})").check()
    screenshot("round-setup")
    page.get_by_role("button", name="Set up the round").click()
    page.get_by_text("Round set up with 3 prompts").wait_for()
    page.get_by_role("button", name="Freeze and open judging").click()
    page.get_by_text("Frozen: the schedule is set").wait_for()
    screenshot("round-frozen")
    evaluation_round = EvaluationRound.objects.get(name="MedInstruct pilot")
    assert evaluation_round.status == RoundStatus.FROZEN
    assert evaluation_round.slots.count() == 3 * 3 * 2  # prompts x pairs x judgments

    # Two clinicians judge blind: Ana with the keyboard, Ben with the mouse.
    judge_url = base + reverse("round_judge", args=[project.slug, evaluation_round.pk])
    for clinician, use_keyboard in ((ana, True), (ben, False)):
        sign_in(page, base, clinician)
        page.goto(base + reverse("round_detail", args=[project.slug, evaluation_round.pk]))
        page.get_by_role("link", name="Start judging").click()
        page.wait_for_url(judge_url)
        # htmx settles a swapped-in item a moment after showing it. The page's timers wait for the test
        # here, so the keys land before that moment, as a quick judge's do, and the focus must stay put.
        page.clock.install()
        page.clock.pause_at(time.time() + 60)
        for n in range(5):
            progress = page.get_by_test_id("judge-progress")
            assert progress.inner_text().startswith(f"{n} of 9")
            html = page.content()
            for model in MODELS:
                assert model not in html, f"{model} is named on the judging page"
            if clinician == ana and n == 0:
                screenshot("round-judging")
            if use_keyboard:
                # As on the review pages: a number key chooses in the current question, j moves on,
                # Ctrl+Enter submits.
                page.locator("#field-overall input").first.focus()
                if n == 0:
                    check_the_shortcuts_list(page)
                first, rest = (
                    (("1", "j", "2", "j"), ("1", "j", "2")) if n % 2 == 0 else (("2", "j", "2", "j"), ("3", "j", "4"))
                )
                for key in first:
                    page.keyboard.press(key)
                page.clock.run_for(1000)
                expected = {"a", "b"} if n % 2 == 0 else {"b"}
                assert checked_values(page, "overall") | checked_values(page, "correctness") == expected
                assert checked_values(page, "overall") and checked_values(page, "correctness")
                assert not checked_values(page, "helpfulness")
                assert page.locator("#field-helpfulness input:focus").count() == 1
                for key in rest:
                    page.keyboard.press(key)
                page.get_by_label("Rationale (optional)").fill(
                    "Answer A names the likely diagnosis." if n % 2 == 0 else ""
                )
                page.keyboard.press("Control+Enter")
            else:
                # Ben prefers whichever answer is longer, whatever its side.
                longer_left = len(page.get_by_test_id("answer-a").inner_text()) >= len(
                    page.get_by_test_id("answer-b").inner_text()
                )
                choice = "A is better" if longer_left else "B is better"
                for axis in ("overall", "correctness", "helpfulness"):
                    page.locator(f"#field-{axis}").get_by_label(choice).check()
                page.locator("#field-harm").get_by_label("Equally harmful (or neither)").check()
                page.get_by_role("button", name="Submit and open the next").click()
            page.get_by_test_id("judge-progress").filter(has_text=f"{n + 1} of 9").wait_for()
        assert Judgment.objects.filter(reviewer=clinician).count() == 5

    # A missing answer is refused with a message and saves nothing.
    page.get_by_role("button", name="Submit and open the next").click()
    page.get_by_text("is required").first.wait_for()
    assert Judgment.objects.filter(reviewer=ben).count() == 5
    assert "6 of 9" not in page.get_by_test_id("judge-progress").inner_text()

    # The curator opens the results: ratings with CIs, win rates, bias diagnostics, agreement.
    sign_in(page, base, curator)
    page.goto(base + reverse("round_results", args=[project.slug, evaluation_round.pk]))
    board = page.get_by_test_id("leaderboard-overall")
    board.wait_for()
    text = board.inner_text()
    for model in MODELS:
        assert model in text
    assert "[" in text and "]" in text  # every rating is shown with its interval
    assert page.locator("[data-testid=axis-overall] svg circle").count() >= 1
    assert "AlpaCare-7b is rated 1000" in page.get_by_test_id("axis-overall").inner_text()
    assert "decisive votes" in page.get_by_test_id("bias-overall").inner_text()
    assert page.get_by_test_id("agreement").inner_text()
    screenshot("round-results")
    page.get_by_test_id("axis-overall").screenshot(
        path=str(screenshot("round-results").parent / "round-results-overall.png")
    )

    # Items where both clinicians picked the same model export as preference pairs, through the CLI.
    expected = set()
    for item in evaluation_round.items.all():
        picks = []
        for judgment in Judgment.objects.filter(item=item).select_related("left_response", "right_response"):
            verdict = judgment.answers["overall"]
            if verdict in ("a", "b"):
                picks.append((judgment.left_response if verdict == "a" else judgment.right_response).model_name)
        if len(picks) == 2 and picks[0] == picks[1]:
            expected.add((item.pk, picks[0]))
    assert expected, "the sample should hold at least one item both clinicians decided alike"
    settings.MEDIA_ROOT = tmp_path / "media"
    out = tmp_path / "round-pairs.jsonl"
    call_command(
        "export_dataset",
        "--project",
        project.slug,
        "--format",
        "preference",
        "--round",
        str(evaluation_round.pk),
        "--out",
        str(out),
        stdout=StringIO(),
    )
    pairs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {(p["metadata"]["round_item_id"], p["metadata"]["chosen_model"]) for p in pairs} == expected
    assert all(p["chosen"] != p["rejected"] and p["metadata"]["votes_for"] == 2 for p in pairs)
