"""Each role's home on the demo data, as a clinician, a curator and an admin see it."""

import re

import pytest

from curation.demo.projects import demo_project_load, demo_users_create
from curation.demo.reviews import demo_reviewers_create, demo_reviews_submit
from curation.demo.rounds import demo_reference_ratings, demo_round_judge
from curation.models import ImportJob, Release, RoundSlot
from curation.services.agreement import project_agreement_refresh
from curation.services.round_schedules import round_freeze
from curation.services.rounds import round_create
from tests.markers import needs_browser

pytestmark = [pytest.mark.browser, needs_browser]


@pytest.fixture
def demo(transactional_db):
    users = demo_users_create()
    by_role = {user.role: (user, password) for user, password in users}
    project = demo_project_load(members=[user for user, _ in users])
    reviewers = demo_reviewers_create()
    demo_reviews_submit(project=project, reviewers=reviewers)
    curator = by_role["curator"][0]
    demo_round_judge(project=project, reviewers=reviewers, created_by=curator)
    open_round = round_create(
        project=project,
        created_by=curator,
        name="Second opinion round",
        mode="pairwise",
        models=sorted({model for _, model in demo_reference_ratings()}),
        reviewers=[by_role["clinician"][0], *reviewers[:1]],
        judgments_per_item=2,
        sample_size=4,
        seed=3,
    )
    round_freeze(evaluation_round=open_round)
    project_agreement_refresh(project_id=project.pk)
    return project, by_role, open_round


def sign_in(page, live_server, email, password):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("heading", name="Projects").wait_for()


def test_the_clinicians_home_has_their_queue_to_start_and_their_judging(live_server, page, screenshot, demo):
    project, users, open_round = demo
    sign_in(page, live_server, *_credentials(users["clinician"]))
    rounds = page.get_by_test_id("my-rounds")
    row = rounds.get_by_role("row", name=re.compile(open_round.name))
    mine = RoundSlot.objects.filter(round=open_round, reviewer=users["clinician"][0]).count()
    assert f"\t{mine}\t0 of {mine}\t" in row.inner_text()  # none judged yet
    assert page.get_by_test_id("curator-projects").count() == 0
    screenshot("home-clinician")
    row.get_by_role("link", name=re.compile("^Judge")).click()
    page.get_by_test_id("judge-progress").wait_for()
    page.go_back()
    page.get_by_test_id("start").first.click()
    page.get_by_role("heading", name=re.compile("review$")).wait_for()
    assert f"/projects/{project.slug}/review/" in page.url


def test_the_curators_home_says_what_waits_in_each_project(live_server, page, screenshot, demo):
    project, users, _ = demo
    sign_in(page, live_server, *_credentials(users["curator"]))
    row = page.get_by_test_id("curator-projects").locator(f'tr[data-project="{project.slug}"]')
    assert row.get_by_test_id("disagreements").inner_text().strip() == "Count them"
    agreement = row.get_by_test_id("agreement").inner_text()
    assert re.search(r"lowest \S -?\d\.\d\d", agreement) and "computed" in agreement
    slots = RoundSlot.objects.filter(round__project=project, round__status="frozen").count()
    assert row.get_by_test_id("judging").inner_text() == f"0 of {slots} judgments"
    # Opening the disagreement queue counts them; the home then shows that count and its age.
    row.get_by_test_id("disagreements").get_by_role("link").click()
    page.get_by_test_id("queue-count").wait_for()
    waiting = re.match(r"[\d,]+", page.get_by_test_id("queue-count").inner_text()).group(0)
    page.goto(live_server.url + "/")
    row = page.get_by_test_id("curator-projects").locator(f'tr[data-project="{project.slug}"]')
    assert row.get_by_test_id("disagreements").inner_text().startswith(waiting)
    assert "counted" in row.get_by_test_id("disagreements").inner_text()
    assert page.get_by_test_id("admin-panel").count() == 0
    screenshot("home-curator")


def test_the_admins_home_adds_people_and_the_background_jobs(live_server, page, screenshot, demo):
    _, users, _ = demo
    sign_in(page, live_server, *_credentials(users["admin"]))
    panel = page.get_by_test_id("admin-panel")
    assert int(panel.get_by_test_id("people-count").inner_text().replace(",", "")) >= 3
    assert panel.get_by_test_id("invitations-pending").inner_text() == "0"
    assert "embedded worker" in panel.get_by_test_id("worker-status").inner_text()
    finished = (
        ImportJob.objects.filter(finished_at__isnull=False).exists()
        or Release.objects.filter(finished_at__isnull=False).exists()
    )
    assert ("ago" if finished else "None yet") in panel.get_by_test_id("last-job").inner_text()
    screenshot("home-admin")


def _credentials(user_and_password):
    user, password = user_and_password
    return user.email, password
