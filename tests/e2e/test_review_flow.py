"""A clinician's review session with the keyboard alone, then the curator's attention list."""

import re

import pytest

from curation.demo.projects import demo_project_load, demo_users_create
from curation.models import Assignment, AssignmentStatus, Review, SeedTask
from curation.services.assignments import assignment_counts_recount
from tests.e2e.conftest import wait_until
from tests.markers import needs_browser

pytestmark = [pytest.mark.browser, needs_browser]


@pytest.fixture
def demo(transactional_db):
    users = demo_users_create()
    project = demo_project_load(members=[user for user, _ in users])
    return project, {user.role: (user, password) for user, password in users}


def sign_in(page, live_server, email, password):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("heading", name="Projects").wait_for()


def press(page, *keys):
    for key in keys:
        page.keyboard.press(key)


def ready(page, heading):
    """The review page is loaded and its first field has the focus, so keys go where a person's would."""
    page.get_by_role("heading", name=heading, exact=True).wait_for()
    page.wait_for_load_state()
    wait_until(page, "() => document.activeElement && document.activeElement.closest('[data-field]')")


def submit_and_wait(page):
    before = page.url
    page.keyboard.press("Control+Enter")
    page.wait_for_url(lambda url: url != before)


def flag_with_panel(page, kind):
    """Raise a flag from the Flags panel with the keyboard: Tab to its button, Enter, and wait for the list."""
    button = page.locator("#flags").get_by_role("button", name=kind, exact=True)
    button.focus()
    page.keyboard.press("Enter")
    page.get_by_test_id("my-flags").get_by_text(kind).wait_for()


def test_a_clinician_reviews_with_the_keyboard_and_a_curator_sees_the_flags(live_server, page, screenshot, demo):
    project, users = demo
    clinician, password = users["clinician"]
    curator, curator_password = users["curator"]
    # The demo queue holds five seed tasks and five responses; this session reviews three and two.
    seed_assignments = Assignment.objects.filter(reviewer=clinician, seed_task__isnull=False).order_by("id")
    Assignment.objects.filter(pk__in=[a.pk for a in seed_assignments[3:]]).delete()
    assignment_counts_recount(project=project)  # rows removed by hand: the queue's counts are counted again

    sign_in(page, live_server, clinician.email, password)
    page.get_by_role("link", name=re.compile("open my review queue")).click()
    page.get_by_role("heading", name="My review queue").wait_for()
    assert page.get_by_test_id("done").inner_text() == "0"
    assert page.get_by_test_id("assigned").inner_text() == "8"
    screenshot("review-queue")

    # Start is focused: Enter opens the first item.
    page.keyboard.press("Enter")
    ready(page, "Seed task review")

    # 1. Accept; validity 4, clarity 5, difficulty 2.
    press(page, "1", "j", "4", "j", "5", "j", "2")
    page.get_by_text("Draft saved").wait_for()
    submit_and_wait(page)

    # 2. Edit the reference output in place with a rationale, then accept with edits and flag it unsafe.
    ready(page, "Seed task review")
    second_task_id = (
        Assignment.objects.filter(reviewer=clinician, seed_task__isnull=False).order_by("id")[1].seed_task_id
    )
    page.keyboard.press("e")
    page.locator("#task-edit-form").wait_for()
    wait_until(page, "() => document.activeElement && document.activeElement.id === 'id_instruction'")
    press(page, "Tab", "Tab", "Control+End")
    page.keyboard.type(" Seek urgent care for a fever in a child under 3 months.")
    press(page, "Tab", "Tab", "Tab", "Tab", "Tab")
    page.keyboard.type("Add the red flag for young infants")
    wait_until(page, "() => document.activeElement && document.activeElement.id === 'id_rationale'")
    screenshot("review-seed-edit-in-place")
    page.keyboard.press("Control+Enter")
    page.get_by_test_id("edit-saved").wait_for()
    wait_until(page, "() => document.activeElement && document.activeElement.closest('#review-form')")
    press(page, "2", "j", "3", "j", "4", "j", "3")
    # The Flags panel is the page's one way to flag: the form has no flags field of its own.
    assert page.locator('[name="a-flags"]').count() == 0
    flag_with_panel(page, "Unsafe")
    screenshot("review-seed-after-edit")
    submit_and_wait(page)

    # 3. Reject, with a comment typed after Enter and a PHI flag.
    ready(page, "Seed task review")
    press(page, "3", "j", "2", "j", "2", "j", "4", "j", "Enter")
    page.keyboard.type("Mentions a named patient.")
    flag_with_panel(page, "Contains PHI")
    submit_and_wait(page)

    # 4. A response: rate every axis and correct it beside the original. The reference output is
    # open; closed once, it stays closed on the next response.
    ready(page, "Response review")
    reference = page.locator("#reference-output")
    assert reference.get_attribute("open") is not None and reference.get_by_test_id("reference-output").is_visible()
    assert "medgen" not in page.content() and "clinibot" not in page.content() and "carenote" not in page.content()
    press(page, "2", "j", "3", "j", "1", "j", "3", "j", "2", "j", "2", "j", "2", "j", "1", "j", "j", "Enter")
    page.keyboard.press("Control+End")
    page.keyboard.type(" Correction: never give aspirin to a child.")
    wait_until(page, "() => document.getElementById('edit-distance').textContent.trim() !== '0'")
    screenshot("review-response-corrected")
    page.locator("#reference-output > summary").click()
    wait_until(page, "() => localStorage.getItem('concord.review.referenceOpen') === '0'")
    submit_and_wait(page)

    # 5. A second response: the reference stays as left, the draft survives a reload, then it is submitted.
    ready(page, "Response review")
    assert page.locator("#reference-output").get_attribute("open") is None
    press(page, "5", "j", "4", "j", "1", "j", "1", "j", "1", "j", "1", "j", "1", "j", "1")
    page.get_by_text("Draft saved").wait_for()
    page.wait_for_timeout(600)
    page.reload()
    ready(page, "Response review")
    assert page.locator('input[name="a-correctness"][value="5"]').is_checked()
    assert page.locator('input[name="a-bias"][value="no"]').is_checked()
    page.keyboard.press("?")
    page.get_by_role("heading", name="Keyboard shortcuts").wait_for()
    screenshot("review-shortcuts")
    press(page, "Escape", "g")
    page.get_by_role("heading", name=re.compile("^Guidelines")).first.wait_for()
    press(page, "Escape")
    submit_and_wait(page)

    mine = Review.objects.filter(reviewer=clinician)
    assert mine.filter(seed_task__isnull=False).count() == 3
    assert mine.filter(response__isnull=False).count() == 2
    corrected = mine.exclude(corrected_text="").get()
    assert corrected.corrected_text.endswith("Correction: never give aspirin to a child.")
    edited = SeedTask.objects.get(pk=second_task_id)
    assert edited.version == 2 and edited.history.first().history_change_reason == "Add the red flag for young infants"
    assert Assignment.objects.filter(reviewer=clinician, status=AssignmentStatus.DONE).count() == 5

    # The curator sees the unsafe and PHI flags.
    page.context.clear_cookies()
    sign_in(page, live_server, curator.email, curator_password)
    page.goto(f"{live_server.url}/projects/{project.slug}/attention/")
    table = page.get_by_test_id("attention")
    table.wait_for()
    text = table.inner_text()
    assert "Unsafe" in text and "Contains PHI" in text and "Ada Clinician" in text
    screenshot("review-curator-attention")
