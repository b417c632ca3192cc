import json
import threading

import pytest
from django.db import connection

from curation import jobs
from curation.models import ImportStatus, SeedTask
from curation.services.imports import import_job_run
from tests.data import SEED
from tests.default_vocabulary import ensure_default_vocabulary
from tests.factories import CuratorFactory, ProjectFactory
from tests.markers import needs_alpacare, needs_browser

from .conftest import SCREENSHOTS

PASSWORD = "a-long-test-password"

pytestmark = [
    pytest.mark.browser,
    needs_browser,
    needs_alpacare,
]


class BackgroundImports:
    """Stands in for the Celery worker: runs each queued import on a thread, holding it just before
    it writes until the test lets it go, so the browser can be seen showing the progress."""

    def __init__(self):
        self.release = threading.Event()
        self.threads: list[threading.Thread] = []

    def delay(self, job_id: int) -> None:
        thread = threading.Thread(target=self._run, args=(job_id,))
        self.threads.append(thread)
        thread.start()

    def _run(self, job_id: int) -> None:
        def hold_before_writing(job):
            if job.status == ImportStatus.WRITING and job.records_written == 0:
                self.release.wait(timeout=30)

        try:
            import_job_run(job_id=job_id, on_progress=hold_before_writing)
        finally:
            connection.close()

    def join(self) -> None:
        self.release.set()
        for thread in self.threads:
            thread.join(timeout=30)


@pytest.fixture
def background(monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    runner = BackgroundImports()
    monkeypatch.setattr(jobs.import_run_task, "delay", runner.delay)
    yield runner
    runner.join()


def test_a_curator_imports_the_real_seed_file_then_sees_a_bad_file_refused(
    live_server, page, screenshot, transactional_db, background, tmp_path
):
    ensure_default_vocabulary()
    project = ProjectFactory(name="AlpaCare seeds", slug="alpacare")
    curator = CuratorFactory(email="curator@example.org")

    page.goto(live_server.url + "/")
    page.get_by_label("Email").fill(curator.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("link", name="AlpaCare seeds", exact=True).click()
    page.get_by_role("link", name="Import", exact=True).click()

    page.get_by_role("heading", name="Import into AlpaCare seeds").wait_for()
    page.get_by_label("File").set_input_files(str(SEED))
    page.get_by_role("button", name="Import").click()

    progress = page.get_by_test_id("import-progress")
    page.get_by_test_id("progress-text").filter(has_text="writing").wait_for()
    assert "167 records validated; writing: 0 of 167" in progress.inner_text()
    screenshot("import-progress")

    background.release.set()
    page.get_by_role("heading", name="Imported").wait_for()
    text = progress.inner_text()
    assert "167 records validated, 167 written" in text
    assert "Created seed tasks\n167" in text
    assert "Values with no vocabulary term yet" in text
    assert SeedTask.objects.filter(project=project).count() == 167
    screenshot("import-report")

    page.get_by_role("link", name="vocabulary page").click()
    views = page.get_by_test_id("vocabulary-view")
    row = views.get_by_role("row").filter(has=page.get_by_role("cell", name="Radiologist", exact=True))
    row.get_by_label("Term for Radiologist").select_option(label="Physician")
    row.get_by_role("button", name="Map").click()
    page.get_by_text("“Radiologist” now means Physician; 3 task(s) relinked.").wait_for()
    assert SeedTask.objects.filter(project=project, view_raw="Radiologist", view__name="Physician").count() == 3
    page.screenshot(path=str(SCREENSHOTS / "import-vocabulary.png"))

    bad = tmp_path / "seed-with-mistakes.json"
    records = json.loads(SEED.read_text())[:30]
    records[6]["difficulty"] = "hard"
    del records[19]["instruction"]
    bad.write_text(json.dumps(records, indent=2))
    page.get_by_role("main").get_by_role("link", name="Import", exact=True).click()
    page.get_by_label("File").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()

    page.get_by_role("heading", name="Refused: problems found").wait_for()
    problems = page.get_by_test_id("problems").inner_text()
    assert "record 7\tdifficulty\tunknown difficulty 'hard'" in problems
    assert "record 20\tinstruction\trequired field is missing" in problems
    assert "Nothing was written." in page.get_by_test_id("progress-text").inner_text()
    assert SeedTask.objects.filter(project=project).count() == 167
    screenshot("import-refused")
