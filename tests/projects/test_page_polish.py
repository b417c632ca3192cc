"""Every project page starts with the same trail, Dashboard / Project / page, and counts read with
thousands separators."""

import re

import pytest
from django.urls import reverse

from tests.factories import AssignmentFactory, PromptFactory, SeedTaskFactory
from tests.projects.test_homes import open_round
from tests.scale import grow

TRAIL = re.compile(
    r'<nav class="muted breadcrumbs" aria-label="Breadcrumb" data-testid="breadcrumbs">(.*?)</nav>', re.S
)


def trail_of(body: str) -> str:
    found = TRAIL.findall(body)
    assert len(found) == 1, f"{len(found)} breadcrumb trails"
    return found[0]


def project_pages(project, clinician) -> list[str]:
    task = SeedTaskFactory(project=project)
    prompt = PromptFactory(project=project)
    evaluation_round = open_round(project, [clinician], 1)
    slug = project.slug
    by_slug = [
        "project_guidelines", "import_list", "vocabulary", "project_agreement", "review_queue", "attention_list",
        "assign", "member_list", "project_settings", "release_list", "adjudication_queue", "adjudication_settings",
        "bulk_decide", "round_list", "round_create", "rubric_list", "rubric_results",
    ]  # fmt: skip
    return [
        *(reverse(name, args=[slug]) for name in by_slug),
        reverse("task_detail", args=[slug, task.pk]),
        reverse("task_edit", args=[slug, task.pk]),
        reverse("adjudicate_task", args=[slug, task.pk]),
        reverse("rubric_editor", args=[slug, prompt.pk]),
        reverse("rating_form_edit", args=[slug, "seed"]),
        reverse("round_detail", args=[slug, evaluation_round.pk]),
        reverse("round_results", args=[slug, evaluation_round.pk]),
    ]


@pytest.mark.django_db
def test_every_project_page_starts_with_dashboard_then_the_project(client, project, clinician, admin_user):
    client.force_login(admin_user)
    dashboard, home = reverse("dashboard"), reverse("task_list", args=[project.slug])
    for url in project_pages(project, clinician):
        page = client.get(url)
        assert page.status_code == 200, url
        assert "breadcrumbs" in page.content.decode(), url
        trail = trail_of(page.content.decode())
        assert re.match(rf'<a href="{dashboard}">Dashboard</a> / <a href="{home}">{project.name}</a> / ', trail), (
            url,
            trail,
        )
        assert 'aria-current="page"' in trail, url


def test_the_project_page_is_the_end_of_its_own_trail(client, project, curator):
    client.force_login(curator)
    trail = trail_of(client.get(reverse("task_list", args=[project.slug])).content.decode())
    assert trail.endswith(f'/ <span aria-current="page">{project.name}</span>')


def test_the_judge_page_names_the_project_in_its_trail(client, project, clinician):
    evaluation_round = open_round(project, [clinician], 2)
    client.force_login(clinician)
    trail = trail_of(client.get(reverse("round_judge", args=[project.slug, evaluation_round.pk])).content.decode())
    assert project.name in trail and evaluation_round.name in trail and trail.endswith("Judging</span>")


def test_the_review_pages_count_with_thousands_separators(client, project, clinician):
    grow(project, [clinician], 3003)  # a third of them pending, a third done
    client.force_login(clinician)
    queue = client.get(reverse("review_queue", args=[project.slug])).content.decode()
    assert 'data-testid="done">1,001<' in queue and 'data-testid="assigned">2,002<' in queue
    item = AssignmentFactory(seed_task=SeedTaskFactory(project=project), reviewer=clinician)
    page = client.get(reverse("review_item", args=[project.slug, item.pk])).content.decode()
    assert "1,001 / 2,003 done" in page
