"""After a 52,000-record import, `make run`'s pages open for the people who work in the project: the
dashboard (where signing in lands), the review queue and the curator's task list, within the browser's
default timeout. Served as `make run` serves them: SQLite, the web server and the worker side by side."""

import pytest

from bench.embedded_load import embedded_environment, embedded_project
from tests.e2e.conftest import SCREENSHOTS
from tests.markers import needs_browser

pytestmark = [pytest.mark.browser, pytest.mark.slow, needs_browser]
TASKS = 52_000


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("scale")
    env = {**embedded_environment(workdir), "DEBUG": "true"}  # as `make run` serves: DEBUG on, static files served
    with embedded_project(workdir=workdir, tasks=TASKS, clinicians=2, items=20, env=env) as served:
        yield served


def signed_in(page, base: str, session_key: str):
    page.context.add_cookies([{"name": "sessionid", "value": session_key, "url": base}])
    return page


def test_a_clinicians_dashboard_and_queue_open_after_a_52k_import(page, served):
    base, setup = served
    assert setup["tasks"] == TASKS
    signed_in(page, base, setup["clinicians"][0]["session"])

    page.goto(f"{base}/")
    page.get_by_role("heading", name="Projects").wait_for()
    page.screenshot(path=str(SCREENSHOTS / "dashboard-52k-clinician.png"), full_page=True)
    row = page.locator("tbody tr").first.inner_text().split()
    assert "52,000" in row and "20" in row  # the project's tasks and the clinician's own queue

    page.goto(f"{base}/projects/{setup['project']}/review/")
    assert page.locator("[data-testid=queue] tbody tr, table tbody tr").count() >= 20


def test_an_admins_dashboard_and_task_list_open_after_a_52k_import(page, served):
    base, setup = served
    signed_in(page, base, setup["admin"])

    page.goto(f"{base}/")
    page.get_by_role("heading", name="Projects").wait_for()
    assert "52,000" in page.locator("tbody tr").first.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "dashboard-52k-admin.png"), full_page=True)

    page.goto(f"{base}/projects/{setup['project']}/")
    page.locator("table tbody tr").first.wait_for()
    page.screenshot(path=str(SCREENSHOTS / "tasks-52k-admin.png"))
