"""The dashboard costs the same number of queries with 5 tasks as with 50, and its counts are right."""

import pytest
from django.urls import reverse

from tests.factories import ClinicianFactory, MembershipFactory, ProjectFactory
from tests.scale import grow, queries


@pytest.mark.parametrize("who", ["clinician", "curator"])
def test_dashboard_costs_the_same_with_5_and_50_tasks_per_project(
    client, project, clinician, curator, who, django_assert_num_queries
):
    other = ProjectFactory()
    MembershipFactory(project=other, user=clinician)
    client.force_login(clinician if who == "clinician" else curator)
    grow(project, [clinician], 5)
    grow(other, [clinician], 5)
    small = queries(client, "get", reverse("dashboard"))
    grow(project, [clinician], 45)
    grow(other, [clinician], 45)
    with django_assert_num_queries(small):
        client.get(reverse("dashboard"))


def test_dashboard_counts_each_projects_tasks_and_only_my_own_assignments(client, project, clinician):
    colleague = ClinicianFactory()
    MembershipFactory(project=project, user=colleague)
    other = ProjectFactory()
    MembershipFactory(project=other, user=clinician)
    grow(project, [clinician, colleague], 6)  # statuses in turn: 2 pending, 2 done, 2 skipped each
    grow(other, [colleague], 4)
    client.force_login(clinician)
    page = client.get(reverse("dashboard"))
    by_slug = {p.slug: p for p in page.context["projects"]}
    assert (by_slug[project.slug].task_count, by_slug[project.slug].my_pending, by_slug[project.slug].my_done) == (
        6,
        2,
        2,
    )
    assert (by_slug[other.slug].task_count, by_slug[other.slug].my_pending, by_slug[other.slug].my_done) == (4, 0, 0)
    assert (page.context["pending_total"], page.context["done_total"]) == (2, 2)
