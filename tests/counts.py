"""The counts pages read (SeedTaskCount, AssignmentCount, VocabularyUse) against the rows they count,
counted here from the rows, independently of the code that keeps them."""

from django.db.models import Count

from curation.models import Assignment, AssignmentCount, SeedTask, SeedTaskCount, VocabularyUse

KINDS = (
    ("topic", "topic_id", "topic_raw"),
    ("view", "view_id", "view_raw"),
    ("task_type", "task_type_id", "task_type_raw"),
)


def kept_counts(project) -> dict:
    """What the counters say, without rows at 0 (a count of nothing is no count)."""
    tasks = SeedTaskCount.objects.filter(project=project).values_list("tasks", flat=True).first() or 0
    uses = {(u.kind, u.term_id, u.raw): u.tasks for u in VocabularyUse.objects.filter(project=project) if u.tasks}
    assignments = {
        c.reviewer_id: (c.pending, c.done, c.skipped)
        for c in AssignmentCount.objects.filter(project=project)
        if (c.pending, c.done, c.skipped) != (0, 0, 0)
    }
    return {"tasks": tasks, "uses": uses, "assignments": assignments}


def true_counts(project) -> dict:
    """The same figures counted from the tasks and the assignments."""
    tasks = SeedTask.objects.filter(project=project).order_by()
    uses = {}
    for kind, term, raw in KINDS:
        for term_id, spelling, n in tasks.values_list(term, raw).annotate(n=Count("pk")):
            uses[kind, term_id, spelling] = n
    by_status: dict[int, dict[str, int]] = {}
    for reviewer_id, status, n in (
        Assignment.objects.filter(project=project)
        .order_by()
        .values_list("reviewer_id", "status")
        .annotate(n=Count("pk"))
    ):
        by_status.setdefault(reviewer_id, {})[status] = n
    assignments = {r: (s.get("pending", 0), s.get("done", 0), s.get("skipped", 0)) for r, s in by_status.items()}
    return {"tasks": tasks.count(), "uses": uses, "assignments": assignments}


def assert_counts_true(project) -> None:
    assert kept_counts(project) == true_counts(project)
