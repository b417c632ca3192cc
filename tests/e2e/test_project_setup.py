"""An admin starts a project in the browser and gives its response form a new scale with anchor labels, watching
the preview show the form as a clinician will see it."""

import pytest

from curation.models import Project
from tests.factories import AdminFactory
from tests.markers import needs_browser

from .conftest import wait_until

pytestmark = [pytest.mark.browser, needs_browser]


@pytest.fixture
def admin(transactional_db):
    return AdminFactory(email="admin@example.org", name="Ada Admin")


def test_an_admin_creates_a_project_and_adds_a_scale_with_anchors_to_its_form(live_server, page, screenshot, admin):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Sign In").click()
    page.get_by_test_id("new-project").click()

    page.get_by_label("Name", exact=True).fill("Nephrology seeds")
    page.get_by_label("Short name").fill("nephro")
    page.get_by_label("Reviewers per item (k)").fill("3")
    page.locator("textarea[name=guidelines]").fill("# Read the labs\n\nCheck **eGFR** before anything else.")
    preview = page.get_by_test_id("guidelines-preview")
    preview.locator("strong", has_text="eGFR").wait_for()  # the guidelines as reviewers will read them
    assert preview.locator("h1").inner_text() == "Read the labs"
    page.get_by_label("Dynamic overlap").check()
    screenshot("project-create")
    page.get_by_role("button", name="Create project").click()

    page.get_by_role("heading", name="Members").wait_for()
    project = Project.objects.get(slug="nephro")
    assert (project.reviewers_per_item, project.created_by) == (3, admin)
    page.goto(f"{live_server.url}/projects/nephro/settings/")
    page.get_by_role("link", name="Response review").click()
    page.get_by_test_id("form-preview").locator("#field-correctness").wait_for()

    page.get_by_label("Add a field of kind").select_option("ordinal_scale")
    page.get_by_role("button", name="Add field").click()
    new = page.get_by_test_id("editor-field").last
    new.get_by_label("Key", exact=True).fill("severity")
    new.get_by_label("Label", exact=True).fill("Severity of possible harm")
    new.get_by_label("Lowest").fill("0")
    new.get_by_label("Highest").fill("3")
    new.get_by_test_id("anchors").fill("0 = none\n1 = mild\n2 = moderate\n3 = life-threatening")

    field = page.get_by_test_id("form-preview").locator("#field-severity")
    field.locator(".anchor", has_text="life-threatening").wait_for()
    assert field.locator("legend").inner_text().startswith("Severity of possible harm")
    assert field.locator(".anchor").all_inner_texts() == ["none", "mild", "moderate", "life-threatening"]
    screenshot("rating-form-editor")

    new.get_by_label("Highest").fill("0")  # a scale of one point: refused, beside the field and in the preview
    page.get_by_test_id("preview-problems").filter(has_text="a scale needs integer min < max").wait_for()
    page.get_by_role("button", name="Save as a new version").click()
    page.get_by_test_id("field-error").filter(has_text="a scale needs integer min < max").wait_for()
    screenshot("rating-form-refused")

    new = page.get_by_test_id("editor-field").last
    new.get_by_label("Highest").fill("3")
    wait_until(page, "() => document.querySelector('#form-preview #field-severity') !== null")
    page.get_by_role("button", name="Save as a new version").click()
    page.get_by_text("Saved Response review version 2").wait_for()
    project.refresh_from_db()
    severity = project.response_schema.fields[-1]
    assert (project.response_schema.version, severity["key"], severity["min"], severity["max"]) == (2, "severity", 0, 3)
    assert severity["labels"]["3"] == "life-threatening"
