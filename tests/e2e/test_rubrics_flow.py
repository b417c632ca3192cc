"""Rubrics end to end: written, reviewed by a second clinician, graded blind with the keyboard by two
clinicians, a judge's verdicts imported, and the curator reading the leaderboard and the judge panel."""

import pytest
from django.core.management import call_command

from curation.models import RubricGrade, RubricStatus
from tests.e2e.conftest import wait_until
from tests.factories import ClinicianFactory, CuratorFactory, MembershipFactory, ModelResponseFactory, PromptFactory
from tests.markers import needs_browser

pytestmark = [pytest.mark.browser, needs_browser]
PASSWORD = "a-long-test-password"


@pytest.fixture
def world(transactional_db):
    from tests.factories import ProjectFactory

    project = ProjectFactory(slug="rubrics", name="Rubric project")
    writer, second = ClinicianFactory(email="writer@example.org"), ClinicianFactory(email="second@example.org")
    for user in (writer, second):
        MembershipFactory(project=project, user=user)
    prompt = PromptFactory(project=project, external_id="fever", instruction="My child has a fever of 39 °C. What now?")
    for model, text in (("model-a", "Give paracetamol, fluids, and see a doctor if it lasts."), ("model-b", "Wait.")):
        ModelResponseFactory(prompt=prompt, seed_task=None, model_name=model, text=text)
    return project, prompt, writer, second, CuratorFactory(email="curator@example.org")


def sign_in(page, live_server, email):
    page.context.clear_cookies()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("heading", name="Projects").wait_for()


def write_rubric(page, live_server, project, prompt):
    page.goto(f"{live_server.url}/projects/{project.slug}/rubrics/prompts/{prompt.pk}/")
    rows = page.locator(".criterion-row")
    rows.nth(0).locator("textarea").fill("Recommends seeing a doctor if the fever lasts")
    rows.nth(0).locator("input[name=points]").fill("8")
    page.get_by_role("button", name="Add criterion").click()
    rows.nth(1).locator("textarea").fill("Advises fluids")
    rows.nth(1).locator("input[name=points]").fill("4")
    rows.nth(1).locator("select").select_option("completeness")
    page.get_by_label("Send to a second clinician for review").check()
    page.keyboard.press("Control+Enter")
    page.get_by_test_id("rubric-status").wait_for()


def grade_all(page, live_server, project, keys_per_response):
    page.goto(f"{live_server.url}/projects/{project.slug}/rubrics/grade/")
    for keys in keys_per_response:
        page.get_by_test_id("grade-form").wait_for()
        wait_until(page, "() => document.activeElement && document.activeElement.closest('[data-criterion]')")
        assert "model-" not in page.content()
        for key in keys:
            page.keyboard.press(key)
        before = page.url
        page.keyboard.press("Control+Enter")
        page.wait_for_url(lambda url, before=before: url != before)


def test_rubric_written_reviewed_graded_and_judged(live_server, page, screenshot, world, tmp_path):
    project, prompt, writer, second, curator = world
    sign_in(page, live_server, writer.email)
    write_rubric(page, live_server, project, prompt)
    assert page.get_by_test_id("rubric-status").inner_text() == "In review"
    screenshot("rubrics-1-written")

    sign_in(page, live_server, second.email)
    page.goto(f"{live_server.url}/projects/{project.slug}/rubrics/{prompt.rubric.pk}/")
    page.get_by_test_id("accept-rubric").click()
    page.get_by_text("Rubric accepted").wait_for()
    assert page.get_by_test_id("rubric-status").inner_text() == "Accepted"
    prompt.rubric.refresh_from_db()
    assert prompt.rubric.status == RubricStatus.ACCEPTED

    page.goto(f"{live_server.url}/projects/{project.slug}/rubrics/grade/")
    page.get_by_test_id("grade-form").wait_for()
    screenshot("rubrics-2-grading")
    grade_all(page, live_server, project, [("y", "y"), ("n", "0")])
    sign_in(page, live_server, writer.email)
    grade_all(page, live_server, project, [("1", "0"), ("0", "0")])
    assert RubricGrade.objects.filter(judge__isnull=True).count() == 4

    verdicts = tmp_path / "verdicts.csv"
    verdicts.write_text(
        "prompt_id,model,criterion_index,judge,judge_version,met\n"
        + "".join(
            f"fever,{m},{i},grader-llm,1,{v}\n" for m, v in (("model-a", "yes"), ("model-b", "no")) for i in (0, 1)
        )
    )
    call_command("import_judge_verdicts", str(verdicts), "--project", project.slug)

    sign_in(page, live_server, curator.email)
    page.goto(f"{live_server.url}/projects/{project.slug}/rubrics/results/")
    board = page.get_by_test_id("leaderboard")
    assert board.locator("tbody tr").first.inner_text().startswith("model-a")
    panel = page.get_by_test_id("judge-panel")
    assert "All criteria" in panel.inner_text()
    assert "clinicians" in panel.get_by_test_id("ceiling").first.inner_text()
    screenshot("rubrics-3-results")
