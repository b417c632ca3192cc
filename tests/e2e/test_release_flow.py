import hashlib
from pathlib import Path

import pytest

from curation.models import Release, TaskStatus
from curation.services import releases as release_service
from curation.services.releases import release_build
from tests.factories import AdminFactory, ProjectFactory, SeedTaskFactory
from tests.markers import needs_browser

pytestmark = [pytest.mark.browser, needs_browser]


@pytest.fixture
def world(transactional_db, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    # The worker is this test: the release stays queued until the test builds it, so the page's
    # progress is seen before the manifest.
    monkeypatch.setattr(release_service, "_enqueue", lambda release: None)
    project = ProjectFactory(slug="cardio", name="Cardiology seeds")
    for n, (topic, difficulty) in enumerate([("Cardiology", 2), ("Cardiology", 4), ("Nephrology", 3)] * 8):
        SeedTaskFactory(
            project=project,
            status=TaskStatus.ACCEPTED,
            instruction=f"Explain finding {n} to a patient.",
            topic_raw=topic,
            difficulty=difficulty,
        )
    SeedTaskFactory(project=project, status=TaskStatus.DRAFT)
    admin = AdminFactory(email="admin@example.org", name="Ada Admin")
    return project, admin


def test_an_admin_builds_a_release_follows_its_progress_and_downloads_it(live_server, page, screenshot, world):
    project, admin = world
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("heading", name="Projects").wait_for()

    page.goto(f"{live_server.url}/projects/{project.slug}/")
    page.get_by_role("link", name="Releases").click()
    page.get_by_role("heading", name="Releases").wait_for()
    page.get_by_label("Title").fill("Cardiology seeds v1")
    page.get_by_label("Format").select_option("alpaca")
    page.get_by_label("Purpose").fill("Instruction-tune a cardiology assistant.")
    page.get_by_label("Topics").select_option(["Cardiology"])
    # Before building, the page says what the definition gives: 16 of the 24 accepted tasks.
    page.get_by_test_id("release-preview-count").filter(has_text="would hold 16 tasks").wait_for()
    screenshot("release-form")
    page.get_by_role("button", name="Build release").click()

    status = page.get_by_test_id("release-status")
    status.wait_for()
    assert "Waiting for a worker" in status.inner_text()
    assert page.get_by_test_id("release-progress").inner_text().startswith("0%")
    screenshot("release-progress")

    release_build(release_id=Release.objects.get().pk)

    page.get_by_test_id("download").wait_for()
    manifest = page.get_by_test_id("manifest").inner_text()
    release = Release.objects.get()
    assert release.sha256 in manifest
    assert "16" in manifest and "topics: Cardiology" in manifest
    card = page.get_by_test_id("card")
    assert "Instruction-tune a cardiology assistant." in card.inner_text()
    assert card.get_by_role("heading", name="Topics").is_visible()
    screenshot("release-manifest-and-card")

    with page.expect_download() as downloading:
        page.get_by_test_id("download").click()
    download = downloading.value
    data = Path(download.path()).read_bytes()
    assert download.suggested_filename == f"cardio-release-{release.pk}-alpaca.jsonl"
    assert hashlib.sha256(data).hexdigest() == release.sha256
    assert len(data.splitlines()) == 16
