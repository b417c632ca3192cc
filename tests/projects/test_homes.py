"""Each role's home: a clinician's queues and judging, a curator's view of what waits in each project,
an admin's people and background jobs; every figure right and the page's cost the same at any size."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation
from config.celery import app as celery_app
from curation.models import (
    EvaluationRound,
    ImportJob,
    ItemFlag,
    Judgment,
    Release,
    RoundItem,
    RoundSlot,
    RoundStatus,
)
from curation.services.agreement import project_agreement_refresh
from curation.services.disagreements import disagreements_refresh
from curation.services.reviews import review_submit
from curation.services.rounds import pairwise_schema_for
from tests.factories import (
    ClinicianFactory,
    MembershipFactory,
    ModelResponseFactory,
    ProjectFactory,
    PromptFactory,
    SeedTaskFactory,
)
from tests.scale import grow, queries


def open_round(project, reviewers, n_items: int, *, judged: int = 0, name: str = "Round 1", status=RoundStatus.FROZEN):
    """A round in `status` with `n_items` pairwise items, one slot per reviewer per item; the first
    `judged` items already judged by every reviewer."""
    evaluation_round = EvaluationRound.objects.create(
        project=project, name=name, schema=pairwise_schema_for(project=project), status=status
    )
    evaluation_round.reviewers.set(reviewers)
    for i in range(n_items):
        prompt = PromptFactory(project=project)
        a = ModelResponseFactory(prompt=prompt, seed_task=None, model_name="alpha", text=f"a {i}")
        b = ModelResponseFactory(prompt=prompt, seed_task=None, model_name="beta", text=f"b {i}")
        item = RoundItem.objects.create(round=evaluation_round, prompt=prompt, response_a=a, response_b=b)
        for reviewer in reviewers:
            slot = RoundSlot.objects.create(
                round=evaluation_round, item=item, reviewer=reviewer, position=i, left_response=a, right_response=b
            )
            if i < judged:
                Judgment.objects.create(
                    round=evaluation_round, slot=slot, item=item, reviewer=reviewer, left_response=a, right_response=b
                )
    return evaluation_round


def running_jobs(project, n: int) -> None:
    """n imports and n releases still running in the project, and one of each finished."""
    now = timezone.now()
    for i in range(n):
        ImportJob.objects.create(project=project, file_name=f"f{i}.jsonl", status="writing")
        Release.objects.create(project=project, title=f"R{i}", license="CC BY-NC 4.0", format="jsonl", status="running")
    ImportJob.objects.create(project=project, file_name="done.jsonl", status="succeeded", finished_at=now)


# --- the clinician's home -------------------------------------------------------------------------


def test_a_clinician_sees_each_open_round_they_judge_with_what_is_left_and_a_link(client, project, clinician):
    open_round(project, [clinician], 5, judged=2)
    colleague = ClinicianFactory()
    open_round(project, [colleague], 3, name="Not mine")
    open_round(project, [clinician], 3, name="Still a draft", status=RoundStatus.DRAFT)
    client.force_login(clinician)
    page = client.get(reverse("dashboard"))
    [mine] = page.context["rounds"]
    assert (mine.name, mine.my_left, mine.my_done, mine.my_total) == ("Round 1", 3, 2, 5)
    body = page.content.decode()
    assert reverse("round_judge", args=[project.slug, mine.pk]) in body
    assert "Not mine" not in body and "Still a draft" not in body
    # One judging table, in the page: the page's title is the word "Dashboard", never the table's markup.
    assert body.count('data-testid="my-rounds"') == 1
    assert re.search(r"<title>\s*Dashboard\b[^<]*</title>", body)


def test_a_clinician_starts_reviewing_a_project_from_the_home(client, project, clinician):
    grow(project, [clinician], 3)
    client.force_login(clinician)
    body = client.get(reverse("dashboard")).content.decode()
    start = reverse("review_next", args=[project.slug])
    assert f'action="{start}"' in body
    assert client.post(start).url.startswith(f"/projects/{project.slug}/review/")


def test_a_clinician_sees_no_curators_figures(client, project, clinician):
    grow(project, [clinician], 3, flags_by=clinician)
    client.force_login(clinician)
    body = client.get(reverse("dashboard")).content.decode()
    assert 'data-testid="curator-projects"' not in body and 'data-testid="admin-panel"' not in body


def test_the_review_queue_lists_the_projects_rounds_i_judge(client, project, clinician):
    evaluation_round = open_round(project, [clinician], 4, judged=1)
    client.force_login(clinician)
    page = client.get(reverse("review_queue", args=[project.slug]))
    assert [(r.pk, r.my_left) for r in page.context["rounds"]] == [(evaluation_round.pk, 3)]
    assert reverse("round_judge", args=[project.slug, evaluation_round.pk]) in page.content.decode()


# --- the curator's home ---------------------------------------------------------------------------


def test_a_curator_sees_what_waits_in_each_project(client, project, clinician, curator):
    other = ProjectFactory()
    grow(project, [clinician], 4, flags_by=clinician)
    ItemFlag.objects.filter(pk=ItemFlag.objects.filter(project=project).first().pk).update(cleared_at=timezone.now())
    SeedTaskFactory(project=other)
    running_jobs(project, 2)
    open_round(project, [clinician], 4, judged=1)
    client.force_login(curator)
    page = client.get(reverse("dashboard"))
    by_slug = {p.slug: p for p in page.context["projects"]}
    cardio, quiet = by_slug[project.slug], by_slug[other.slug]
    assert (cardio.open_flags, cardio.imports_running, cardio.releases_running) == (3, 2, 2)
    assert (cardio.judging_done, cardio.judging_total) == (1, 4)
    assert (quiet.open_flags, quiet.imports_running, quiet.releases_running, quiet.judging_total) == (0, 0, 0, 0)
    body = page.content.decode()
    assert 'data-testid="curator-projects"' in body and reverse("attention_list", args=[project.slug]) in body


def test_a_curator_sees_the_disagreements_last_counted_with_their_age(client, project, curator):
    client.force_login(curator)
    assert client.get(reverse("dashboard")).context["projects"][0].disagreements is None
    disagreements_refresh(project=project)  # what the worker does when the queue is first opened
    counted = client.get(reverse("dashboard")).context["projects"][0].disagreements
    assert counted["to_settle"] == 0 and timezone.now() - counted["at"] < timedelta(minutes=1)


def test_a_curator_sees_the_latest_agreement_with_its_age(client, project, curator):
    raters = [ClinicianFactory(), ClinicianFactory()]
    for clarity, task in zip((1, 3, 5), SeedTaskFactory.create_batch(3, project=project), strict=True):
        for rater, shift in zip(raters, (0, 1), strict=True):
            answers = {
                "decision": "accept",
                "clinical_validity": 4,
                "clarity": min(clarity + shift, 5),
                "difficulty": 3,
            }
            review_submit(reviewer=rater, schema=project.seed_schema, seed_task=task, answers=answers)
    client.force_login(curator)
    assert client.get(reverse("dashboard")).context["projects"][0].agreement is None
    project_agreement_refresh(project_id=project.pk)
    page = client.get(reverse("dashboard"))
    agreement = page.context["projects"][0].agreement
    assert agreement["n_reviews"] == 6 and agreement["lowest"]["alpha"] is not None
    assert timezone.now() - agreement["computed_at"] < timedelta(minutes=1)
    assert 'data-testid="agreement"' in page.content.decode() and "computed" in page.content.decode()


# --- the admin's home -----------------------------------------------------------------------------


def test_an_admin_sees_people_pending_invitations_and_the_last_job(client, project, clinician, admin_user):
    Invitation.objects.create(email="new@example.org", invited_by=admin_user)
    Invitation.objects.create(email="late@example.org", invited_by=admin_user, expires_at=timezone.now())
    Invitation.objects.create(email="in@example.org", invited_by=admin_user, accepted_at=timezone.now())
    running_jobs(project, 1)
    client.force_login(admin_user)
    page = client.get(reverse("dashboard"))
    assert (page.context["people"], page.context["invitations_pending"]) == (2, 1)
    assert timezone.now() - page.context["last_job_finished"] < timedelta(minutes=1)
    assert page.context["worker"].embedded
    assert "embedded worker" in page.content.decode()


@pytest.mark.parametrize("replies, shown", [([{"w1": {"ok": "pong"}}], "Alive"), ([], "No worker")])
def test_with_a_real_broker_the_admin_sees_whether_a_worker_answers(
    client, admin_user, settings, monkeypatch, replies, shown
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://broker.invalid:6379/0"
    asked = []
    monkeypatch.setattr(celery_app.control, "ping", lambda timeout: asked.append(timeout) or replies)
    client.force_login(admin_user)
    page = client.get(reverse("dashboard"))
    assert page.context["worker"].alive is bool(replies) and asked and asked[0] <= 1
    assert shown in page.content.decode()


def test_an_unreachable_broker_is_shown_as_no_worker_not_an_error(client, admin_user, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://broker.invalid:6379/0"

    def refuse(timeout):
        raise ConnectionRefusedError("refused")

    monkeypatch.setattr(celery_app.control, "ping", refuse)
    client.force_login(admin_user)
    page = client.get(reverse("dashboard"))
    assert page.status_code == 200 and "No worker" in page.content.decode()
    assert "ConnectionRefusedError" in page.content.decode()


def test_curators_do_not_see_the_admins_panel(client, curator):
    client.force_login(curator)
    assert "admin-panel" not in client.get(reverse("dashboard")).content.decode()


# --- cost -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["clinician", "curator", "admin"])
def test_every_home_costs_the_same_with_little_and_much_waiting(
    client, project, clinician, curator, admin_user, who, django_assert_num_queries
):
    other = ProjectFactory()
    MembershipFactory(project=other, user=clinician)
    client.force_login({"clinician": clinician, "curator": curator, "admin": admin_user}[who])

    def more(n):
        for p in (project, other):
            grow(p, [clinician], n, flags_by=clinician)
            running_jobs(p, n)
            open_round(p, [clinician], n, judged=1, name=f"Round {p.pk}-{n}")

    more(2)
    small = queries(client, "get", reverse("dashboard"))
    more(6)
    with django_assert_num_queries(small):
        client.get(reverse("dashboard"))


def test_counts_are_thousands_separated(client, project, clinician):
    grow(project, [clinician], 1002)
    client.force_login(clinician)
    body = client.get(reverse("dashboard")).content.decode()
    assert "1,002" in body
