"""Data of a chosen size for query-count tests: pages and endpoints must cost the same at any size."""

from collections import Counter

from django.db import connection
from django.test.utils import CaptureQueriesContext

from curation.models import Assignment, AssignmentStatus, ItemFlag, SeedTask
from curation.services.assignments import assignment_counts_add
from curation.services.seed_task_search import seed_task_search_fill
from curation.services.seed_tasks import seed_tasks_counted
from curation.services.vocabulary import vocabulary_uses_of
from curation.text.hashing import content_hash

STATUSES = (AssignmentStatus.PENDING, AssignmentStatus.DONE, AssignmentStatus.SKIPPED)


def grow(project, reviewers, n: int, *, flags_by=None) -> list[SeedTask]:
    """n more seed tasks in the project, with raw vocabulary values, each assigned to every reviewer
    (statuses in turn), and an open unsafe flag on each when `flags_by` is given."""
    start = SeedTask.objects.count()
    tasks = SeedTask.objects.bulk_create(
        SeedTask(
            project=project,
            instruction=f"Explain condition {start + i}",
            topic_raw=f"Topic {(start + i) % 7}",
            view_raw="Patient",
            task_type_raw=f"Type {(start + i) % 3}",
            status="in_review",
            content_hash=content_hash(f"scale {start + i}"),
        )
        for i in range(n)
    )
    assignments = Assignment.objects.bulk_create(
        Assignment(project=project, reviewer=reviewer, seed_task=task, status=STATUSES[i % 3])
        for i, task in enumerate(tasks)
        for reviewer in reviewers
    )
    # Counted as the services count what they write in bulk (an import, a batch of assignments).
    seed_tasks_counted(project_id=project.pk, tasks=len(tasks), uses=vocabulary_uses_of(tasks))
    seed_task_search_fill(project_id=project.pk)  # found by search, as once the job after an import has run
    made = Counter((a.reviewer_id, a.status) for a in assignments)
    assignment_counts_add(
        project_id=project.pk, deltas={r.pk: {status: made[r.pk, status] for status in STATUSES} for r in reviewers}
    )
    if flags_by is not None:
        ItemFlag.objects.bulk_create(
            ItemFlag(project=project, seed_task=task, raised_by=flags_by, kind="unsafe", note="n") for task in tasks
        )
    return tasks


def queries(client, method: str, url: str, **kwargs) -> int:
    """How many queries one request makes (it must succeed or redirect)."""
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, **kwargs)
    assert response.status_code in (200, 201, 204, 302), (url, response.status_code, response.content[:500])
    return len(captured)
