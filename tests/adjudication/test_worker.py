"""The disagreement queue a page asks for is found by a real Celery worker, outside the web process."""

import uuid

import pytest
from django.urls import reverse

from curation.models import Computation, ComputationKind
from curation.services.reviews import review_submit
from tests.adjudication.answers import SEED_AGREED
from tests.factories import ClinicianFactory, CuratorFactory, MembershipFactory, ProjectFactory, SeedTaskFactory
from tests.markers import needs_worker
from tests.worker import running_worker, wait_until, worker_available


@pytest.mark.worker
@needs_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_finds_the_disagreements_the_first_visit_queued(client):
    assert worker_available(), "CI must provide PostgreSQL and a broker for the worker tests"
    project, curator = ProjectFactory(), CuratorFactory()
    task = SeedTaskFactory(project=project)
    for value in (1, 5):
        reviewer = ClinicianFactory()
        MembershipFactory(project=project, user=reviewer)
        answers = {**SEED_AGREED, "clinical_validity": value}
        review_submit(reviewer=reviewer, schema=project.seed_schema, seed_task=task, answers=answers)
    client.force_login(curator)
    url = reverse("adjudication_queue", args=[project.slug])

    with running_worker(queue=f"test-{uuid.uuid4().hex[:8]}") as worker:
        first = client.get(url)
        done = wait_until(
            lambda: Computation.objects.filter(
                project=project, kind=ComputationKind.DISAGREEMENTS, computed_at__isnull=False
            ).exists()
        )
        assert worker.poll() is None, "the worker exited early"

    assert 'data-testid="computing"' in first.content.decode()
    assert done, "the worker did not publish the queue within a minute"
    assert f"Seed task {task.pk}" in client.get(url).content.decode()
