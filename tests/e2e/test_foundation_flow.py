import pytest

from curation.demo.projects import DEMO_USERS, demo_project_load, demo_users_create
from curation.services.seed_tasks import seed_task_edit
from tests.markers import needs_browser

pytestmark = [pytest.mark.browser, needs_browser]


@pytest.fixture
def demo(transactional_db):
    users = demo_users_create()
    project = demo_project_load(members=[user for user, _ in users])
    return project, {user.role: (user, password) for user, password in users}


def test_demo_clinician_logs_in_opens_a_task_and_sees_its_history(live_server, page, screenshot, demo):
    project, users = demo
    clinician, password = users["clinician"]
    curator, _ = users["curator"]
    # A task the clinician is not reviewing: on a task of their own queue others' edits stay hidden until they
    # submit (blind review; tests/security/test_blind_task_history.py).
    pending = project.assignments.filter(reviewer=clinician, seed_task__isnull=False).values("seed_task")
    task = project.seed_tasks.exclude(pk__in=pending).order_by("id").first()
    seed_task_edit(
        task_id=task.pk,
        editor=curator,
        expected_version=task.version,
        changes={"difficulty": 4},
        rationale="Needs two steps of reasoning",
    )

    page.goto(live_server.url + "/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Email").fill(clinician.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()

    page.get_by_role("heading", name=f"Welcome, {clinician.get_short_name()}").wait_for()
    assert page.get_by_test_id("pending-total").inner_text() == "10"  # 5 seed tasks and 5 responses
    page.get_by_role("link", name=project.name, exact=True).click()
    page.get_by_role("link", name=task.instruction[:40], exact=False).first.click()

    history = page.get_by_test_id("history")
    history.wait_for()
    text = history.inner_text()
    assert "Needs two steps of reasoning" in text
    assert "created" in text
    assert "difficulty" in text
    screenshot("clinician-task-history")


def test_the_demo_credentials_in_the_readme_are_the_ones_that_work(live_server, page, demo):
    spec = next(s for s in DEMO_USERS if s["role"] == "curator")
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(spec["email"])
    page.get_by_label("Password").fill(spec["password"])
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("heading", name="Projects").wait_for()
