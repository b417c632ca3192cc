"""A curator works through the PHI queue in a browser: clears a finding that is not PHI, redacts one that is,
builds a release whose card reports both, and an admin finds both decisions in the audit trail."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Permission

from curation.models import Release, SeedTask, TaskStatus
from curation.models.phi import PhiFinding, PhiFindingState
from curation.services import releases as release_service
from curation.services.releases import release_build
from tests.e2e.conftest import sign_in
from tests.factories import AdminFactory, CuratorFactory, ProjectFactory, SeedTaskFactory
from tests.markers import needs_browser

pytestmark = [pytest.mark.browser, needs_browser]

# Two planted identifiers: a date of birth (PHI) and the clinic's switchboard number (not the patient's).
PLANTED = (
    "A man, DOB 03/14/1931, phoned the ward through the clinic switchboard, 617-555-0143, with chest pain "
    "at rest. What should the nurse advise?"
)
SWITCHBOARD_REASON = "The clinic's public switchboard, not the patient's number."


@pytest.fixture
def world(transactional_db, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    # The worker is this test: the release stays queued until the test builds it.
    monkeypatch.setattr(release_service, "_enqueue", lambda release: None)
    project = ProjectFactory(slug="cardio", name="Cardiology seeds")
    # Every task is scanned as it is saved, as the app's own writes are.
    planted = SeedTaskFactory(project=project, status=TaskStatus.ACCEPTED, instruction=PLANTED)
    for n in range(3):
        SeedTaskFactory(project=project, status=TaskStatus.ACCEPTED, instruction=f"Explain angina type {n}.")
    curator = CuratorFactory(email="curator@example.org", name="Cora Curator")
    curator.user_permissions.add(Permission.objects.get(content_type__app_label="curation", codename="make_release"))
    admin = AdminFactory(email="admin@example.org", name="Ada Admin")
    return project, planted, curator, admin, settings.MEDIA_ROOT


def test_a_curator_clears_one_finding_redacts_another_and_the_card_and_audit_trail_show_both(
    live_server, page, screenshot, world
):
    project, planted, curator, admin, media = world
    date, phone = PhiFinding.objects.filter(item_task=planted).order_by("start")
    assert (date.kind, phone.kind) == ("DATE", "PHONE")

    sign_in(page, live_server, curator.email)
    page.goto(f"{live_server.url}/projects/{project.slug}/")
    page.get_by_role("link", name="PHI", exact=True).click()
    page.get_by_role("heading", name="Protected health information").wait_for()
    assert "2 open findings" in page.get_by_test_id("phi-counts").inner_text()
    source = page.get_by_test_id("phi-source")
    assert source.locator("mark.phi-date").inner_text().startswith("03/14/1931")
    assert source.locator("mark.phi-phone").inner_text().startswith("617-555-0143")
    screenshot("phi-queue")

    phone_row = page.locator(f'[data-testid="phi-finding"][data-finding="{phone.pk}"]')
    phone_row.get_by_label("Why this is not PHI").fill(SWITCHBOARD_REASON)
    phone_row.get_by_role("button", name="Not PHI").click()
    page.locator(f'[data-testid="phi-finding"][data-finding="{phone.pk}"]').wait_for(state="detached")
    assert "1 open finding" in page.get_by_test_id("phi-counts").inner_text()

    page.locator(f'[data-testid="phi-finding"][data-finding="{date.pk}"]').get_by_role(
        "button", name="Redact as [DATE]"
    ).click()
    page.get_by_test_id("phi-empty").wait_for()
    assert f"Seed task {planted.pk} is back in review: accept it again to release it." in page.content()
    screenshot("phi-queue-done")
    planted.refresh_from_db()
    assert planted.instruction == PLANTED.replace("03/14/1931", "[DATE]")
    date.refresh_from_db()
    phone.refresh_from_db()
    assert (date.state, phone.state, phone.reason) == (
        PhiFindingState.REDACTED,
        PhiFindingState.CLEARED,
        SWITCHBOARD_REASON,
    )

    # The redacted revision is unreviewed: the curator accepts it again, as any edited task.
    page.goto(f"{live_server.url}/projects/{project.slug}/")
    page.get_by_role("link", name="Disagreements").click()
    page.get_by_role("link", name="Accept or reject in bulk").click()
    page.get_by_label("Status").select_option(label="In review")
    page.get_by_role("button", name="Preview").click()
    page.get_by_label("Why").fill("PHI redacted; the text is otherwise as accepted.")
    page.get_by_test_id("confirm").filter(has_text="1 task").click()
    page.get_by_test_id("preview").wait_for(state="detached")  # back on the filter, the decision made
    assert SeedTask.objects.get(pk=planted.pk).status == TaskStatus.ACCEPTED

    page.goto(f"{live_server.url}/projects/{project.slug}/")
    page.get_by_role("link", name="Releases").click()
    page.get_by_role("heading", name="Releases").wait_for()
    page.get_by_label("Title").fill("Cardiology seeds, PHI reviewed")
    page.get_by_label("Format").select_option("alpaca")
    # All four accepted tasks are in: the planted one's findings are all decided.
    page.get_by_test_id("release-preview-count").filter(has_text="would hold 4 tasks").wait_for()
    page.get_by_role("button", name="Build release").click()
    page.get_by_test_id("release-status").wait_for()
    release_build(release_id=Release.objects.get().pk)

    page.get_by_test_id("download").wait_for()
    card = page.get_by_test_id("card")
    card.get_by_role("heading", name="Protected health information").wait_for()
    card_text = card.inner_text()
    assert "cleared by a curator as false positives: 1; redacted: 1; still open" in card_text
    assert f"seed task {planted.pk}" in card_text and "[DATE]" in card_text
    screenshot("phi-release-card")
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download README.md").click()
    readme = Path(downloading.value.path()).read_text()
    assert "cleared by a curator as false positives: 1; redacted: 1" in readme
    data = (media / Release.objects.get().file_path).read_text()  # the data holds the redacted text only
    assert "[DATE]" in data and "03/14/1931" not in data and "617-555-0143" in data

    sign_in(page, live_server, admin.email)
    page.goto(f"{live_server.url}/audit/")
    page.get_by_role("heading", name="Audit trail").wait_for()
    page.get_by_label("Project").select_option(label=project.name)
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(f"**project={project.pk}**")
    rows = page.locator("tbody tr")
    cleared = rows.filter(has_text="Cleared a PHI finding")
    redacted = rows.filter(has_text="Redacted a PHI finding")
    assert cleared.count() == redacted.count() == 1
    assert curator.email in cleared.inner_text() and f"curation.phifinding {phone.pk}" in cleared.inner_text()
    assert curator.email in redacted.inner_text() and f"curation.phifinding {date.pk}" in redacted.inner_text()
    assert rows.filter(has_text="Built a release").count() == 1
    assert "03/14/1931" not in page.content()  # the trail keeps no trace of the redacted date
    screenshot("phi-audit-trail")
    redaction = SeedTask.objects.get(pk=planted.pk).history.get(history_change_reason__startswith="Redacted")
    assert (redaction.history_user, redaction.version) == (curator, 2)  # a revision of its own, by the curator
