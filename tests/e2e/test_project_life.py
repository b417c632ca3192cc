"""A project's whole life in the browser, from an empty database to a downloaded release: an admin starts it and
invites its people, a curator shapes its rating form and imports the AlpaCare seed tasks, two clinicians review,
the curator settles their disagreement and accepts the reviewed tasks, and the admin releases them."""

import json
import re
from pathlib import Path

import pytest
from django.core import mail

from curation.models import Assignment, Review, SeedTask, TaskStatus
from curation.models.adjudication import GoldLabel
from curation.models.phi import PhiFinding
from tests.data import SEED
from tests.default_vocabulary import ensure_default_vocabulary
from tests.factories import AdminFactory
from tests.markers import needs_alpacare, needs_browser

from .conftest import sign_in, wait_until

pytestmark = [pytest.mark.browser, needs_browser, needs_alpacare]

PROJECT = "AlpaCare seeds"
SLUG = "alpacare"
TOPIC = "Neurology"  # three of the seed file's tasks, the ones this project reviews
DISPUTED = "Parkinson"  # the task on which the clinicians disagree
PEOPLE = {
    "curator": ("cora.curator@example.org", "Cora Curator", "a-curators-long-passphrase"),
    "clinician": ("ada.first@example.org", "Dr. Ada First", "ada-first-long-passphrase"),
    "second": ("ben.second@example.org", "Dr. Ben Second", "ben-second-long-passphrase"),
}


@pytest.fixture
def admin(transactional_db, settings, tmp_path):
    """A fresh install: the vocabulary its migration loads, and the admin its installer created."""
    settings.MEDIA_ROOT = tmp_path / "media"
    ensure_default_vocabulary()
    return AdminFactory(email="admin@example.org", name="Ada Admin")


def test_a_project_goes_from_an_empty_database_to_a_downloaded_release(live_server, page, screenshot, admin):
    sign_in(page, live_server, admin.email)
    project_create(page)
    page.goto(live_server.url + "/")
    page.get_by_test_id("admin-panel").get_by_role("link", name="People").click()
    page.get_by_role("link", name="Invite someone").click()
    for role, (email, name, _) in PEOPLE.items():
        person_invite(page, email=email, name=name, role="clinician" if role == "second" else role)
    page.goto(live_server.url + "/")
    assert page.get_by_test_id("invitations-pending").inner_text() == "3"
    screenshot("life-home-admin")

    links = invitation_links()
    for email, _, password in PEOPLE.values():
        invitation_accept(page, link=live_server.url + links[email], password=password)
    # The curator's session: the seed review form gets a mid-point anchor, then the seed file comes in.
    curator_email, _, curator_password = PEOPLE["curator"]
    sign_in(page, live_server, curator_email, curator_password)
    seed_form_edit(page)
    seed_file_import(page)
    tasks = SeedTask.objects.filter(project__slug=SLUG, topic_raw=TOPIC)
    assert tasks.count() == 3
    work_assign(page, k=2)
    assert Assignment.objects.filter(seed_task__in=tasks).count() == 6
    page.goto(live_server.url + "/")
    screenshot("life-home-curator")

    # Both clinicians review their three tasks with the keyboard; on one they disagree.
    for role, disputed_answers in (("clinician", ("1", "5")), ("second", ("3", "2"))):
        email, _, password = PEOPLE[role]
        sign_in(page, live_server, email, password)
        assert page.get_by_test_id("pending-total").inner_text() == "3"
        screenshot(f"life-home-{role}")
        queue_review(page, disputed_answers=disputed_answers)
        page.goto(live_server.url + "/")
        assert page.get_by_test_id("done-total").inner_text() == "3"
    assert Review.objects.filter(seed_task__in=tasks).count() == 6
    assert {review.schema.version for review in Review.objects.filter(seed_task__in=tasks)} == {2}

    sign_in(page, live_server, curator_email, curator_password)
    disputed = tasks.get(instruction__contains=DISPUTED)
    disagreement_settle(page, task=disputed)
    agreed_accept(page)
    assert set(tasks.values_list("status", flat=True)) == {TaskStatus.ACCEPTED}

    sign_in(page, live_server, admin.email)
    rows = release_build_and_download(page)
    assert sorted(row["instruction"] for row in rows) == sorted(tasks.values_list("instruction", flat=True))
    assert all(row["output"] == "" for row in rows)


def project_create(page):
    page.get_by_test_id("new-project").click()
    page.get_by_label("Name", exact=True).fill(PROJECT)
    page.get_by_label("Short name").fill(SLUG)
    page.get_by_label("Reviewers per item (k)").fill("2")
    page.get_by_role("button", name="Create project").click()
    page.get_by_role("heading", name="Members").wait_for()


def person_invite(page, *, email, name, role):
    page.get_by_label("Email").fill(email)
    page.get_by_label("Role").select_option(role)
    page.get_by_label("Name").fill(name)
    page.get_by_label(PROJECT).check()
    page.get_by_role("button", name="Send invitation").click()
    page.get_by_text(f"Invitation sent to {email}.").wait_for()


def invitation_links() -> dict[str, str]:
    """Each invited address and the path of the link its email carries."""
    links = {}
    for message in mail.outbox:
        (address,) = message.to
        links[address] = re.search(r"https?://[^/\s]+(/accounts/invite/\S+/)", message.body).group(1)
    assert sorted(links) == sorted(email for email, _, _ in PEOPLE.values())
    return links


def invitation_accept(page, *, link, password):
    page.context.clear_cookies()
    page.goto(link)
    page.get_by_role("heading", name="Welcome to Concord").wait_for()
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Password again").fill(password)
    page.get_by_role("button", name="Set password and sign in").click()
    page.get_by_text("Welcome to Concord. Your account is ready.").wait_for()
    assert page.get_by_role("link", name=PROJECT, exact=True).count() == 1


def seed_form_edit(page):
    page.get_by_role("link", name=PROJECT, exact=True).first.click()
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Seed review").click()
    validity = page.get_by_test_id("editor-field").nth(1)
    validity.get_by_test_id("anchors").fill("1 = wrong or unsafe\n3 = partly valid\n5 = fully valid")
    field = page.get_by_test_id("form-preview").locator("#field-clinical_validity")
    field.locator(".anchor", has_text="partly valid").wait_for()
    page.get_by_role("button", name="Save as a new version").click()
    page.get_by_text("Saved Seed review version 2").wait_for()


def seed_file_import(page):
    page.get_by_role("link", name=PROJECT).first.click()
    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_label("File").set_input_files(str(SEED))
    page.get_by_role("button", name="Upload and preview").click()
    page.get_by_role("heading", name="Waiting for confirmation").wait_for()
    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_role("heading", name="Imported").wait_for()
    assert "167 records validated, 167 written" in page.get_by_test_id("import-progress").inner_text()
    # A fresh install has no topics yet: the project's topic becomes a term, so that filters can name it.
    page.get_by_role("link", name="vocabulary page").click()
    row = (
        page.get_by_test_id("vocabulary-topic")
        .get_by_role("row")
        .filter(has=page.get_by_role("cell", name=TOPIC, exact=True))
    )
    row.get_by_role("button", name="Map").click()
    page.get_by_text(f"“{TOPIC}” now means {TOPIC}; 3 task(s) relinked.").wait_for()


def work_assign(page, *, k):
    page.get_by_role("link", name=PROJECT).first.click()
    page.get_by_role("link", name="Assign", exact=True).click()
    page.get_by_label("Items").select_option("seed_task")
    page.get_by_label("Topic contains").fill(TOPIC)
    for _, name, _ in (PEOPLE["clinician"], PEOPLE["second"]):
        page.get_by_label(re.compile(re.escape(name))).check()
    page.get_by_label("Reviewers per item (k)").fill(str(k))
    page.get_by_role("button", name="Assign").click()
    page.get_by_text("6 assignments made on 3 items.").wait_for()


def queue_review(page, *, disputed_answers):
    """Review every task in the queue: decision, clinical validity, clarity, difficulty. The disputed task gets
    `disputed_answers` for the first two, the others accept at 4; clarity 4 and difficulty 2 throughout."""
    page.get_by_role("link", name=re.compile("open my review queue")).click()
    page.get_by_role("heading", name="My review queue").wait_for()
    page.keyboard.press("Enter")
    for _ in range(3):
        page.get_by_role("heading", name="Seed task review", exact=True).wait_for()
        page.wait_for_load_state()
        wait_until(page, "() => document.activeElement && document.activeElement.closest('[data-field]')")
        decision, validity = disputed_answers if DISPUTED in page.content() else ("1", "4")
        for key in (decision, "j", validity, "j", "4", "j", "2"):
            page.keyboard.press(key)
        page.get_by_text("Draft saved").wait_for()
        submit_and_wait(page)


def submit_and_wait(page):
    before = page.url
    page.keyboard.press("Control+Enter")
    page.wait_for_url(lambda url: url != before)


def disagreement_settle(page, *, task):
    """The disputed task: gold label, then accepted into the dataset from the same page."""
    page.get_by_role("link", name=PROJECT).first.click()
    page.get_by_role("link", name="Disagreements").click()
    rows = page.get_by_test_id("queue-row")
    rows.first.wait_for()
    # Besides the disagreement, the tasks the import's PHI scan found something in wait here as safety items.
    with_phi = set(PhiFinding.objects.filter(project=task.project).values_list("seed_task_id", flat=True))
    assert with_phi and task.pk not in with_phi
    safety = rows.filter(has_text="Safety flag: Contains PHI")
    assert {int(re.search(r"Seed task (\d+)", text).group(1)) for text in safety.all_inner_texts()} == with_phi
    assert rows.count() == len(with_phi) + 1
    row = rows.filter(has_text=f"Seed task {task.pk}")
    assert "Decision: Accept, Reject" in row.inner_text()
    assert "Clinical validity: 5, 2 (spread 3)" in row.inner_text()
    row.get_by_role("link", name="Adjudicate").click()
    form = page.get_by_test_id("gold-form")
    form.locator("input[name=gold_decision][value='accept']").check()
    form.locator("input[name=gold_clinical_validity][value='4']").check()
    form.get_by_label("Reason").select_option(label="Guideline gap")
    page.get_by_test_id("save-gold").click()
    page.get_by_text(f"Gold label v1 saved for task {task.pk}").wait_for()
    assert GoldLabel.objects.get(seed_task=task).values["clinical_validity"] == 4

    # Saved, the page moves on to the next item waiting (a safety item); the settled one stays in the queue.
    page.get_by_role("heading", name=re.compile(r"^Adjudicate task (\d+)")).wait_for()
    assert f"/adjudication/tasks/{task.pk}/" not in page.url
    page.get_by_role("link", name="Disagreements").first.click()
    page.get_by_role("link", name="Show settled items too").click()
    page.get_by_test_id("queue-row").filter(has_text=f"Seed task {task.pk}").get_by_role("link").click()
    page.get_by_test_id("decision-form").get_by_role("button", name="Accept into the dataset").click()
    page.get_by_text(re.compile(rf"^Task {task.pk} accepted \(decision #\d+\)")).wait_for()
    task.refresh_from_db()
    assert task.status == TaskStatus.ACCEPTED


def agreed_accept(page):
    """The two tasks the clinicians agreed on: accepted in bulk, by topic."""
    page.get_by_role("link", name="Disagreements").first.click()
    page.get_by_role("link", name="Accept or reject in bulk").click()
    filters = page.get_by_test_id("bulk-filter")
    filters.get_by_label("Status").select_option("in_review")
    filters.get_by_label("Topic").select_option(label=TOPIC)
    filters.get_by_role("button", name="Preview").click()
    assert page.get_by_test_id("preview-count").inner_text() == "2"
    page.get_by_label("Why").fill("Both reviewers accepted")
    page.get_by_test_id("confirm").click()
    page.get_by_text(re.compile(r"^2 tasks accepted \(decision #\d+\)")).wait_for()


def release_build_and_download(page) -> list[dict]:
    page.get_by_role("link", name=PROJECT, exact=True).click()
    page.get_by_role("link", name="Releases").click()
    page.get_by_label("Title").fill("AlpaCare neurology seeds v1")
    page.get_by_label("Format").select_option("alpaca")
    page.get_by_label("Include tasks without an output").check()
    page.get_by_test_id("release-preview-count").filter(has_text="would hold 3 tasks").wait_for()
    page.get_by_role("button", name="Build release").click()
    page.get_by_test_id("download").wait_for()
    with page.expect_download() as downloading:
        page.get_by_test_id("download").click()
    data = Path(downloading.value.path()).read_text()
    return [json.loads(line) for line in data.splitlines()]
