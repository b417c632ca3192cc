import json
import threading
import zipfile

import pytest
from django.db import connection

from curation import jobs
from curation.models import Assignment, ImportStatus, ModelResponse, Prompt, Review, SeedTask
from curation.services.assignments import assignments_create
from curation.services.imports import import_job_run
from tests.data import MODEL_OUTPUTS_DIR, SEED
from tests.default_vocabulary import ensure_default_vocabulary
from tests.factories import ClinicianFactory, CuratorFactory, MembershipFactory, ProjectFactory
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
    page.get_by_role("button", name="Upload and preview").click()
    page.get_by_role("heading", name="Waiting for confirmation").wait_for()
    page.get_by_role("button", name="Import", exact=True).click()

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
    page.get_by_role("button", name="Upload and preview").click()
    page.get_by_role("button", name="Import", exact=True).click()

    page.get_by_role("heading", name="Refused: problems found").wait_for()
    problems = page.get_by_test_id("problems").inner_text()
    assert "record 7 (line 50)\tdifficulty\tunknown difficulty 'hard'" in problems
    assert "record 20 (line 154)\tinstruction\trequired field is missing" in problems
    assert "Nothing was written." in page.get_by_test_id("progress-text").inner_text()
    assert SeedTask.objects.filter(project=project).count() == 167
    screenshot("import-refused")


def zip_of_model_runs(path, count: int = 4):
    """Three models' answers to the first test prompts, laid out as runs are: <model>/<eval set>/seed_0.json."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for source in ("AlpaCare-7b", "medalpaca-7b", "PMC_LLAMA_7B"):
            records = json.loads((MODEL_OUTPUTS_DIR / f"{source}.json").read_text())[:count]
            archive.writestr(f"runs/{source}/medinstruct/seed_0.json", json.dumps(records, indent=2))
        archive.writestr("runs/PMC_LLAMA_7B/medinstruct/.ipynb_checkpoints/seed_0-checkpoint.json", "[]")
    return path


def test_a_curator_imports_a_zip_of_model_outputs_and_a_clinician_reviews_one_answer(
    live_server, page, screenshot, transactional_db, background, tmp_path
):
    project = ProjectFactory(name="Model answers", slug="answers")
    curator = CuratorFactory(email="curator@example.org")
    clinician = ClinicianFactory(email="clinician@example.org")
    MembershipFactory(project=project, user=clinician)

    sign_in(page, live_server, curator.email)
    page.goto(live_server.url + f"/projects/{project.slug}/imports/")
    page.get_by_label("File").set_input_files(str(zip_of_model_runs(tmp_path / "runs.zip")))
    page.get_by_role("button", name="Upload and preview").click()

    page.get_by_role("heading", name="Waiting for confirmation").wait_for()
    files = page.get_by_test_id("preview-files").inner_text()
    for model in ("AlpaCare-7b", "medalpaca-7b", "PMC_LLAMA_7B"):
        assert f"runs/{model}/medinstruct/seed_0.json\toutputs_with_prompts\t{model} (from the path)" in files
    assert "left out: a notebook's checkpoint copy of another file" in files
    first = json.loads((MODEL_OUTPUTS_DIR / "AlpaCare-7b.json").read_text())[0]
    records = page.get_by_test_id("preview-records").first.inner_text()
    assert first["instruction"][:60] in records and first["response"][:60] in records
    assert not ModelResponse.objects.exists()
    screenshot("import-zip-preview")

    page.get_by_role("button", name="Import", exact=True).click()
    background.release.set()
    page.get_by_role("heading", name="Imported").wait_for()
    table = page.get_by_test_id("import-files").inner_text()
    assert "runs/medalpaca-7b/medinstruct/seed_0.json\toutputs_with_prompts\tmedalpaca-7b (from the path)\t4" in table
    assert page.get_by_test_id("models").inner_text() == "AlpaCare-7b, PMC_LLAMA_7B, medalpaca-7b"
    assert Prompt.objects.filter(project=project).count() == 4
    assert ModelResponse.objects.filter(prompt__project=project).count() == 12
    screenshot("import-zip-report")

    answer = ModelResponse.objects.get(model_name="medalpaca-7b", origin_line=1)
    assert answer.text == json.loads((MODEL_OUTPUTS_DIR / "medalpaca-7b.json").read_text())[0]["response"]
    assignments_create(project=project, assigned_by=curator, reviewers=[clinician], k=1, response_ids=[answer.pk])
    assignment = Assignment.objects.get(response=answer, reviewer=clinician)

    page.context.clear_cookies()
    sign_in(page, live_server, clinician.email)
    page.goto(live_server.url + f"/projects/{project.slug}/review/{assignment.pk}/")
    page.get_by_role("heading", name="Response review", exact=True).wait_for()
    assert answer.text[:80] in page.content() and "medalpaca" not in page.content()
    page.wait_for_load_state()
    for key in ("5", "j", "4", "j", "1", "j", "1", "j", "1", "j", "1", "j", "1", "j", "1"):
        page.keyboard.press(key)
    page.get_by_text("Draft saved").wait_for()
    screenshot("import-zip-review")
    before = page.url
    page.keyboard.press("Control+Enter")
    page.wait_for_url(lambda url: url != before)
    assert Review.objects.get(assignment__response=answer, assignment__reviewer=clinician)


def sign_in(page, live_server, email: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("heading", name="Projects").wait_for()
