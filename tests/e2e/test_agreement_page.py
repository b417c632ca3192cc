import pytest

from curation.charts import CHART_ROW
from curation.demo.projects import demo_project_load, demo_users_create
from curation.demo.reviews import demo_reviewers_create, demo_reviews_submit
from tests.markers import needs_browser

from .conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser, needs_browser]


@pytest.fixture
def demo(transactional_db):
    users = demo_users_create()
    project = demo_project_load(members=[user for user, _ in users])
    demo_reviews_submit(project=project, reviewers=demo_reviewers_create())
    return project, {user.role: (user, password) for user, password in users}


def test_a_curator_reads_the_demo_projects_agreement_with_intervals_and_the_outlier_reviewer(
    live_server, page, screenshot, demo
):
    project, users = demo
    curator, password = users["curator"]
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(curator.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("link", name=project.name).first.click()
    page.get_by_role("link", name="Agreement", exact=True).first.click()

    page.get_by_role("heading", name="Inter-annotator agreement").wait_for()
    table = page.get_by_test_id("coefficients").first
    rows = table.locator("tbody tr")
    assert rows.count() >= 8
    first_alpha = rows.first.locator("td").nth(2).inner_text()
    assert first_alpha[0].isdigit() or first_alpha.startswith("-")
    assert "[" in first_alpha and "]" in first_alpha  # the 95% interval is shown beside the value
    assert page.locator("svg rect.bar").count() >= 8
    # Each bar is one row high and as long as its value: the page's styles must not stretch the SVG bars.
    boxes = (
        page.locator("figure.chart")
        .first.locator("rect.bar")
        .evaluate_all("bars => bars.map(b => { const r = b.getBBox(); return [r.height, r.width, r.y]; })")
    )
    assert {height for height, _, _ in boxes} == {CHART_ROW - 12}
    assert len({y for _, _, y in boxes}) == len(boxes)
    assert len({width for _, width, _ in boxes}) > 1
    raters = page.get_by_test_id("raters").first.inner_text()
    assert "Dr. Dana Haas" in raters and "outlier" in raters
    page.get_by_text("By difficulty").first.click()
    assert page.get_by_test_id("slice-difficulty").first.is_visible()
    # Cohen's kappa for pairs of reviewers is drawn when a field's line is opened, fetched once by htmx.
    fetched = []
    page.on("request", lambda request: "kappa=" in request.url and fetched.append(request.url))
    pairs = page.locator("details.pairs").first
    assert pairs.get_by_test_id("pairs").count() == 0
    pairs.locator("summary").click()
    pairs.get_by_test_id("pairs").wait_for()
    assert " · " in pairs.get_by_test_id("pairs").locator("tbody tr").first.inner_text()
    pairs.locator("summary").click()
    pairs.locator("summary").click()  # closed and opened again: the table stays, nothing is fetched again
    page.wait_for_timeout(200)
    assert pairs.get_by_test_id("pairs").count() == 1 and pairs.get_by_test_id("pairs-link").count() == 0
    assert len(fetched) == 1
    screenshot("curator-agreement")
    # Viewport-sized views of the parts a curator reads first, easier to check than the whole page.
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / "curator-agreement-top.png"))
    page.locator("figure.chart").first.evaluate("el => el.scrollIntoView()")
    page.screenshot(path=str(SCREENSHOTS / "curator-agreement-chart.png"))
    page.get_by_test_id("raters").first.evaluate("el => el.scrollIntoView()")
    page.screenshot(path=str(SCREENSHOTS / "curator-agreement-raters.png"))


def test_a_clinician_is_refused_the_agreement_page(live_server, page, demo):
    project, users = demo
    clinician, password = users["clinician"]
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(clinician.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("heading", name="Projects").wait_for()
    response = page.goto(f"{live_server.url}/projects/{project.slug}/agreement/")
    assert response.status == 403
