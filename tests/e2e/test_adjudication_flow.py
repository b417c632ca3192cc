import pytest

from accounts.models import Role, User
from curation.demo.projects import demo_project_load, demo_users_create
from curation.services.members import project_member_add
from curation.services.reviews import review_submit
from curation.services.seed_tasks import seed_task_edit
from tests.markers import needs_browser

pytestmark = [pytest.mark.browser, needs_browser]


@pytest.fixture
def disagreement(transactional_db):
    """Two clinicians rate the same demo task far apart; one of them also corrected its reference output."""
    users = demo_users_create()
    project = demo_project_load(members=[user for user, _ in users])
    by_role = {user.role: (user, password) for user, password in users}
    ada = by_role[Role.CLINICIAN][0]
    ben = User.objects.create_user(
        email="ben@concord.test", password="ben-long-password", name="Dr. Ben Second", specialty="cardiology"
    )
    project_member_add(project=project, user=ben)
    task = project.seed_tasks.order_by("id").first()
    seed_task_edit(
        task_id=task.pk,
        editor=ben,
        expected_version=task.version,
        changes={"reference_output": task.reference_output.replace("Normal: below 120/80", "Normal: under 120/80")},
        rationale="Plainer wording for patients",
    )
    common = {"clarity": 4, "difficulty": 1}
    review_submit(
        reviewer=ada,
        schema=project.seed_schema,
        seed_task=task,
        answers={**common, "decision": "accept", "clinical_validity": 5},
    )
    review_submit(
        reviewer=ben,
        schema=project.seed_schema,
        seed_task=task,
        answers={**common, "decision": "accept_with_edits", "clinical_validity": 2, "comment": "Thresholds vary"},
    )
    return project, task, by_role[Role.CURATOR]


def test_a_disagreement_goes_from_two_clinicians_to_the_queue_and_to_a_gold_label(
    live_server, page, screenshot, disagreement
):
    project, task, (curator, password) = disagreement

    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(curator.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("heading", name="Projects").wait_for()
    page.get_by_role("link", name=project.name, exact=True).click()
    page.get_by_role("link", name="Disagreements").click()

    row = page.get_by_test_id("queue-row").filter(has_text=f"Seed task {task.pk}")
    assert "Clinical validity: 5, 2 (spread 3)" in row.inner_text()
    screenshot("adjudication-queue")
    row.get_by_role("link", name="Adjudicate").click()

    reviews = page.get_by_test_id("reviews-table")
    reviews.wait_for()
    assert "Reviewer A" in reviews.inner_text()
    assert "Dr. Ada Clinician" not in page.content()
    assert "under 120/80" in page.get_by_test_id("edits").inner_text()

    page.get_by_test_id("reveal").click()
    page.get_by_test_id("reviewer-name").first.wait_for()
    names = page.get_by_test_id("reviewer-name").all_inner_texts()
    assert any("Dr. Ada Clinician" in n for n in names) and any("Dr. Ben Second" in n for n in names)
    assert "reveal=1" in page.url

    form = page.get_by_test_id("gold-form")
    assert form.locator("input[name=gold_difficulty][value='1']").is_checked()  # the reviewers' majority
    form.locator("input[name=gold_clinical_validity][value='4']").check()
    form.locator("input[name=gold_decision][value='accept']").check()
    form.get_by_label("Reason").select_option(label="Guideline gap")
    form.get_by_label("Note").fill("The reference mixes US and European thresholds; guideline to say which.")
    page.get_by_test_id("save-gold").click()

    # Saved: back to the queue, which has nothing left; the settled item is one click away.
    page.get_by_text(f"Gold label v1 saved for task {task.pk}").wait_for()
    assert "Nothing else is left to settle" in page.content()
    assert "0 items to settle (1 settled hidden)" in page.get_by_test_id("queue-count").inner_text()
    page.get_by_role("link", name="Show settled items too").click()
    page.get_by_test_id("queue-row").filter(has_text=f"Seed task {task.pk}").get_by_role("link").click()

    soft = page.get_by_test_id("soft-label")
    soft.wait_for()
    text = soft.inner_text()
    assert "Guideline gap" in text
    assert "Clinical validity" in text and "(2 ratings)" in text
    assert "50%" in text
    screenshot("adjudication-gold-label")
