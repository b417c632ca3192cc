"""The review workspace costs the same number of queries with 10 items as with 1,000."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from curation.models import Assignment, AssignmentStatus, ModelResponse, Review, SeedTask
from curation.text.hashing import content_hash
from tests.factories import AssignmentFactory, ClinicianFactory, MembershipFactory, SeedTaskFactory


def _grow(project, clinician, other, n):
    """n more seed tasks and n more responses, each assigned to the clinician and to another reviewer."""
    start = SeedTask.objects.count()
    tasks = SeedTask.objects.bulk_create(
        SeedTask(project=project, instruction=f"Task {start + i}", content_hash=content_hash(str(start + i)))
        for i in range(n)
    )
    responses = ModelResponse.objects.bulk_create(
        ModelResponse(seed_task=t, model_name="m", text=f"Answer {t.pk}", content_hash=content_hash(str(t.pk)))
        for t in tasks
    )
    assignments = []
    for i, (task, response) in enumerate(zip(tasks, responses, strict=True)):
        status = AssignmentStatus.DONE if i % 3 == 0 else AssignmentStatus.PENDING
        for reviewer in (clinician, other):
            assignments.append(Assignment(project=project, reviewer=reviewer, seed_task=task, status=status))
            assignments.append(Assignment(project=project, reviewer=reviewer, response=response))
    Assignment.objects.bulk_create(assignments)
    Review.objects.bulk_create(
        Review(project=project, schema=project.seed_schema, reviewer=other, seed_task=t, answers={"clarity": 2})
        for t in tasks
    )


def _count(client, method, url, **kwargs) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, **kwargs)
    assert response.status_code in (200, 302), (url, response.status_code)
    return len(captured)


@pytest.fixture
def workspace(project, clinician):
    other = ClinicianFactory()
    MembershipFactory(project=project, user=other)
    first_task = AssignmentFactory(seed_task=SeedTaskFactory(project=project), reviewer=clinician)
    response = ModelResponse.objects.create(
        seed_task=first_task.seed_task, model_name="m", text="An answer.", content_hash="x"
    )
    first_response = AssignmentFactory(seed_task=None, response=response, reviewer=clinician)
    return other, first_task, first_response


def test_queue_and_review_pages_cost_the_same_with_10_and_1000_items(client, project, clinician, workspace):
    other, first_task, first_response = workspace
    slug = project.slug
    urls = [
        ("get", reverse("review_queue", args=[slug]), {}),
        ("get", reverse("review_queue", args=[slug]), {"headers": {"HX-Request": "true"}}),
        ("get", reverse("review_queue", args=[slug]) + "?page=3", {}),
        ("get", reverse("review_item", args=[slug, first_task.pk]), {}),
        ("get", reverse("review_item", args=[slug, first_response.pk]), {}),
        ("get", reverse("review_task_edit", args=[slug, first_task.pk]), {"headers": {"HX-Request": "true"}}),
        ("post", reverse("review_draft", args=[slug, first_task.pk]), {"data": {"a-clarity": "3"}}),
        ("post", reverse("review_next", args=[slug]), {}),
        ("post", reverse("api_review_next", args=[slug]), {}),
        ("get", reverse("api_my_reviews", args=[slug]), {}),
    ]
    client.force_login(clinician)
    _grow(project, clinician, other, 10)
    for method, url, kw in urls:  # the first draft save creates the draft; count the steady state
        _count(client, method, url, **kw)
    small = [_count(client, method, url, **kw) for method, url, kw in urls]
    _grow(project, clinician, other, 990)
    large = [_count(client, method, url, **kw) for method, url, kw in urls]
    assert large == small
    assert max(small) <= 16, small
