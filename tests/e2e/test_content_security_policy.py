"""Pages that come from libraries (API docs, Django admin, allauth) and our own error and people pages run
under the Content-Security-Policy too: the `page` fixture fails the test on any violation."""

import pytest

from curation.demo.projects import demo_project_load, demo_users_create
from tests.markers import needs_browser

pytestmark = [pytest.mark.browser, needs_browser]


def test_an_admin_walks_the_library_and_account_pages_without_a_policy_violation(
    live_server, page, screenshot, transactional_db
):
    users = demo_users_create()
    demo_project_load(members=[user for user, _ in users])
    admin, password = next((user, pw) for user, pw in users if user.role == "admin")
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("heading", name="Projects").wait_for()

    page.goto(live_server.url + "/api/docs/")
    page.locator(".swagger-ui .info").first.wait_for()  # Swagger UI started from its script file
    screenshot("api-docs")
    page.goto(live_server.url + "/admin/")
    page.get_by_role("heading", name="Site administration").wait_for()
    for path, heading in (
        ("/people/", "People"),
        ("/people/invitations/", "Invite people"),
        ("/people/me/tokens/", None),
        ("/accounts/2fa/", None),
        ("/no-such-page/", "There is nothing here"),
    ):
        page.goto(live_server.url + path)
        if heading:
            page.get_by_role("heading", name=heading).first.wait_for()
    page.wait_for_timeout(300)  # let late scripts report
