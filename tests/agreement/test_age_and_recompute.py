"""The agreement page shows the last result with its age and a Recompute action; a request never
computes agreement itself when a worker can (the cache is shared)."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from curation.services import agreement as agreement_service
from curation.services.agreement import project_agreement_latest, project_agreement_recompute


@pytest.fixture
def queued(monkeypatch):
    """A shared cache and a worker that only records what it was asked to compute."""
    asked = []
    monkeypatch.setattr(agreement_service, "_cache_is_shared", lambda: True)
    monkeypatch.setattr("curation.jobs.project_agreement_task.delay", asked.append)
    return asked


def test_the_page_queues_the_computation_and_never_computes_in_the_request(
    client, project, curator, queued, monkeypatch
):
    monkeypatch.setattr(agreement_service, "project_agreement_compute", lambda **kw: pytest.fail("computed inline"))
    client.force_login(curator)
    page = client.get(reverse("project_agreement", args=[project.slug]))
    assert page.status_code == 200 and page.context["report"] is None
    assert queued == [project.pk]


def test_after_reviews_change_the_page_shows_the_last_result_with_its_age_until_the_new_one_is_ready(
    client, project, curator, queued
):
    computed_at = timezone.now() - timedelta(hours=3)
    report = {"computed_at": computed_at.isoformat(), "n_reviews": 4, "draws": 10, "seed": 1, "schemas": []}
    cache.set(agreement_service._latest_key(project.pk), report)
    latest, current = project_agreement_latest(project=project)
    assert latest == report and current is False
    client.force_login(curator)
    body = client.get(reverse("project_agreement", args=[project.slug])).content.decode()
    assert "3\xa0hours ago" in body and 'data-testid="agreement-stale"' in body and "Recompute" in body


def test_recompute_queues_a_fresh_computation_even_when_one_is_cached(client, project, curator, queued):
    agreement_service._store(project.pk, agreement_service.review_state_of(project=project), {"n_reviews": 0})
    project_agreement_recompute(project=project)
    assert queued == [project.pk]
    client.force_login(curator)
    response = client.post(reverse("project_agreement_recompute", args=[project.slug]))
    assert response.status_code == 302 and queued == [project.pk, project.pk]


def test_the_agreement_page_costs_the_same_queries_with_few_and_many_reviews_pending(
    client, project, curator, queued, django_assert_num_queries
):
    from tests.scale import grow, queries

    client.force_login(curator)
    url = reverse("project_agreement", args=[project.slug])
    grow(project, [], 5)
    small = queries(client, "get", url)
    grow(project, [], 45)
    with django_assert_num_queries(small):
        client.get(url)
