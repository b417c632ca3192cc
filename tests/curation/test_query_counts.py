"""Pages cost a fixed number of queries, however many rows they show."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from curation.models import Assignment
from curation.services.seed_tasks import seed_task_create, seed_task_edit
from tests.factories import ProjectFactory, SeedTaskFactory


def _queries(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured)


def _grow(project, clinician, n):
    for _ in range(n):
        task = SeedTaskFactory(project=project)
        Assignment.objects.create(project=project, reviewer=clinician, seed_task=task)


@pytest.mark.parametrize("url_name", ["task_list", "api_task_list"])
def test_task_list_query_count_does_not_grow_with_tasks(client, project, clinician, url_name):
    client.force_login(clinician)
    url = reverse(url_name, args=[project.slug])
    _grow(project, clinician, 10)
    small = _queries(client, url)
    # A search asks the full-text index for its matches first, on PostgreSQL (seed_tasks_matching).
    searched = _queries(client, url, difficulty=3, q="condition")
    _grow(project, clinician, 90)
    assert _queries(client, url) == small
    assert _queries(client, url, difficulty=3, q="condition") == searched


@pytest.mark.parametrize("granted", [True, False], ids=["granted-releases", "not-granted"])
def test_the_task_list_asks_once_whether_a_curator_may_make_releases(client, project, curator, granted):
    if granted:
        curator.user_permissions.add(Permission.objects.get(codename="make_release"))
    client.force_login(curator)
    url = reverse("task_list", args=[project.slug])
    with CaptureQueriesContext(connection) as captured:
        page = client.get(url).content.decode()
    assert len([query for query in captured if "auth_permission" in query["sql"]]) == 1
    assert (reverse("release_list", args=[project.slug]) in page) is granted


def test_dashboard_query_count_does_not_grow_with_projects_or_tasks(client, project, clinician, curator):
    client.force_login(curator)
    _grow(project, clinician, 5)
    small = _queries(client, reverse("dashboard"))
    for _ in range(5):
        _grow(ProjectFactory(), clinician, 5)
    assert _queries(client, reverse("dashboard")) == small


def test_task_detail_query_count_does_not_grow_with_revisions(client, project, clinician):
    task = seed_task_create(project=project, instruction="Define sepsis.", task_type="Open Q&A")
    client.force_login(clinician)
    url = reverse("task_detail", args=[project.slug, task.pk])
    seed_task_edit(task_id=task.pk, editor=clinician, expected_version=1, changes={"difficulty": 2}, rationale="a")
    few = _queries(client, url)
    for version in range(2, 12):
        seed_task_edit(
            task_id=task.pk,
            editor=clinician,
            expected_version=version,
            changes={"difficulty": 2 + version % 3},
            rationale="again",
        )
    assert _queries(client, url) == few
