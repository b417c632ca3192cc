"""The agreement page shows the last result with its age and a Recompute action; no request computes
agreement, whatever the size of the project: a worker does (curation.services.computations)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from curation.models import Computation, ComputationKind, ComputationStatus
from curation.services import agreement as agreement_service
from curation.services.agreement import project_agreement_refresh
from curation.services.computations import computation_run
from curation.services.reviews import review_submit
from tests.factories import ClinicianFactory, MembershipFactory, SeedTaskFactory


@pytest.fixture
def queued(monkeypatch):
    """A worker that only records which computations it was asked to run."""
    asked = []
    monkeypatch.setattr("curation.jobs.computation_run_task.delay", asked.append)
    return asked


@pytest.fixture
def reviewed(project):
    raters = [ClinicianFactory(), ClinicianFactory()]
    for rater in raters:
        MembershipFactory(project=project, user=rater)
    for clarity, task in zip((1, 3, 5), SeedTaskFactory.create_batch(3, project=project), strict=True):
        for rater, shift in zip(raters, (0, 1), strict=True):
            answers = {
                "decision": "accept",
                "clinical_validity": 4,
                "clarity": min(clarity + shift, 5),
                "difficulty": 3,
            }
            review_submit(reviewer=rater, schema=project.seed_schema, seed_task=task, answers=answers)
    return raters


def test_the_page_queues_the_computation_and_never_computes_in_the_request(
    client, project, curator, reviewed, queued, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(agreement_service, "project_agreement_compute", lambda **kw: pytest.fail("computed inline"))
    client.force_login(curator)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.get(reverse("project_agreement", args=[project.slug]))
    assert page.status_code == 200 and page.context["report"] is None
    body = page.content.decode()
    assert 'data-testid="computing"' in body and 'hx-trigger="every 3s"' in body
    assert queued == [Computation.objects.get(kind=ComputationKind.AGREEMENT).pk]


def test_after_reviews_change_the_page_shows_the_last_result_with_its_age_and_says_it_is_stale(
    client, project, curator, reviewed, queued
):
    project_agreement_refresh(project_id=project.pk)
    Computation.objects.update(computed_at=timezone.now() - timedelta(hours=3))
    task = SeedTaskFactory(project=project)
    for rater in reviewed:
        answers = {"decision": "accept", "clinical_validity": 4, "clarity": 2, "difficulty": 3}
        review_submit(reviewer=rater, schema=project.seed_schema, seed_task=task, answers=answers)
    client.force_login(curator)

    page = client.get(reverse("project_agreement", args=[project.slug]))

    body = page.content.decode()
    assert "3\xa0hours ago" in body and 'data-testid="stale"' in body and 'data-testid="recompute"' in body
    assert "6 current reviews" in body  # the figures shown are the last ones, not recomputed by the request
    assert queued == []  # a stale result waits for a curator's Recompute


def test_recompute_queues_a_fresh_computation_once_and_the_page_polls_until_it_is_published(
    client, project, curator, reviewed, queued, django_capture_on_commit_callbacks
):
    project_agreement_refresh(project_id=project.pk)
    client.force_login(curator)
    url = reverse("project_agreement_recompute", args=[project.slug])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, headers={"HX-Request": "true"})
        again = client.post(url)

    (computation,) = Computation.objects.all()
    assert queued == [computation.pk]  # the second press finds the run already on its way
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<div id="agreement-body">') and 'data-testid="computing"' in fragment
    assert again.status_code == 302
    computation_run(computation_id=computation.pk)
    computation.refresh_from_db()
    assert computation.status == ComputationStatus.IDLE and computation.generation == 2


def test_a_run_that_fails_keeps_the_last_result_and_the_page_says_why(client, project, curator, reviewed, monkeypatch):
    project_agreement_refresh(project_id=project.pk)
    computation = Computation.objects.get()
    Computation.objects.update(status=ComputationStatus.QUEUED)

    def broken(**kwargs):
        raise MemoryError("out of memory")

    monkeypatch.setattr(agreement_service, "project_agreement_compute", broken)
    with pytest.raises(MemoryError):
        computation_run(computation_id=computation.pk)
    client.force_login(curator)

    body = client.get(reverse("project_agreement", args=[project.slug])).content.decode()

    assert 'data-testid="computation-failed"' in body and "MemoryError: out of memory" in body
    assert "Coefficients by field" in body and 'data-testid="recompute"' in body


def test_a_run_whose_worker_died_can_be_queued_again(project, curator, reviewed, queued):
    project_agreement_refresh(project_id=project.pk)
    long_ago = timezone.now() - timedelta(hours=2)
    Computation.objects.update(status=ComputationStatus.RUNNING, started_at=long_ago)
    agreement_service.project_agreement_recompute(project=project)
    assert Computation.objects.get().status == ComputationStatus.QUEUED


def test_clinicians_may_neither_see_nor_recompute_agreement(client, project, clinician, reviewed, queued):
    client.force_login(clinician)
    assert client.get(reverse("project_agreement", args=[project.slug])).status_code == 403
    assert client.post(reverse("project_agreement_recompute", args=[project.slug])).status_code == 403
    assert client.post(reverse("api_agreement", args=[project.slug])).status_code == 403
    assert not Computation.objects.exists()


def test_the_agreement_page_and_api_cost_the_same_queries_at_5_and_50_items(
    client, project, curator, reviewed, queued, django_assert_num_queries
):
    from tests.scale import grow, queries

    client.force_login(curator)
    page, api = reverse("project_agreement", args=[project.slug]), reverse("api_agreement", args=[project.slug])

    def reviews_of(n):
        for task in grow(project, [], n):
            for rater, clarity in zip(reviewed, (2, 4), strict=True):
                answers = {"decision": "accept", "clinical_validity": 4, "clarity": clarity, "difficulty": 3}
                review_submit(reviewer=rater, schema=project.seed_schema, seed_task=task, answers=answers)
        project_agreement_refresh(project_id=project.pk)

    reviews_of(5)
    small_page, small_api = queries(client, "get", page), queries(client, "get", api)
    reviews_of(45)
    assert Computation.objects.get().result["n_reviews"] == 6 + 100
    with django_assert_num_queries(small_page):
        client.get(page)
    with django_assert_num_queries(small_api):
        client.get(api)
