"""The review workspace costs the same number of queries with 10 items as with 1,000."""

import uuid

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


@pytest.mark.parametrize("item", ["task", "response"])
def test_the_review_page_reads_its_item_apart_from_the_assignment_in_small_joins(
    client, project, clinician, workspace, item
):
    # One query joining the assignment, its project's forms, the item and everything the page shows of
    # it (ten tables) took PostgreSQL longer to plan than the rest of the page took to run.
    _, first_task, first_response = workspace
    assignment = first_task if item == "task" else first_response
    client.force_login(clinician)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(reverse("review_item", args=[project.slug, assignment.pk]))
    assert page.status_code == 200
    assert max(q["sql"].count(" JOIN ") for q in captured.captured_queries) <= 3
    # The API's next item is read the same way.
    Assignment.objects.filter(reviewer=clinician).exclude(pk=assignment.pk).update(status=AssignmentStatus.DONE)
    with CaptureQueriesContext(connection) as captured:
        item = client.post(reverse("api_review_next", args=[project.slug]))
    assert item.json()["assignment"] == assignment.pk
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    assert max(sql.count(" JOIN ") for sql in reads) <= 3


def _pending_seed_assignments(clinician):
    return Assignment.objects.filter(reviewer=clinician, status=AssignmentStatus.PENDING, seed_task__isnull=False)


def test_a_submit_costs_the_same_with_10_and_1000_items_on_the_page_and_the_api(client, project, clinician, workspace):
    other = workspace[0]
    client.force_login(clinician)
    answers = {"decision": "accept", "clinical_validity": 4, "clarity": 5, "difficulty": 2}

    def submit_page() -> int:
        assignment = _pending_seed_assignments(clinician).order_by("-id").first()
        form = {**{f"a-{k}": v for k, v in answers.items()}, "submission_key": str(uuid.uuid4())}
        return _count(client, "post", reverse("review_item", args=[project.slug, assignment.pk]), data=form)

    def submit_api() -> int:
        assignment = _pending_seed_assignments(clinician).order_by("-id").first()
        body = {"assignment": assignment.pk, "answers": answers, "submission_key": str(uuid.uuid4())}
        url = reverse("api_review_submit", args=[project.slug])
        with CaptureQueriesContext(connection) as captured:
            assert client.post(url, body, content_type="application/json").status_code == 201
        return len(captured)

    _grow(project, clinician, other, 10)
    submit_page(), submit_api()  # the first submit of a session may write it; count the ones after
    small = (submit_page(), submit_api())
    _grow(project, clinician, other, 990)
    assert (submit_page(), submit_api()) == small
    # A review with no free text: session, user, project, item, the submit's writes and its audit event.
    assert max(small) <= 19, small
