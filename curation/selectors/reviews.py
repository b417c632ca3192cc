"""Reads for the review workspace. Blind review is decided here: nothing in this module returns
another reviewer's answers, drafts or counts for an item unless the project's visibility rule allows it."""

from django.db.models import QuerySet

from accounts.models import User
from curation.models import (
    BLOCKING_FLAG_KINDS,
    QUEUE_RANK,
    Assignment,
    AssignmentCount,
    AssignmentStatus,
    ItemFlag,
    Membership,
    ModelResponse,
    Project,
    Review,
    ReviewVisibility,
    SeedTask,
)

QUEUE_ORDERING = ("rank", "id")
ATTENTION_ORDERING = ("-raised_at", "-id")


def assignment_item_loaded(*, assignment: Assignment) -> Assignment:
    """The assignment with its item and what its review page shows of it (the task's vocabulary terms; the
    response's prompt or seed task), read in one query of its own. Read with the assignment in one query
    of ten tables, PostgreSQL took longer to plan it (2 ms) than any other step of the page. An item the
    assignment already holds is kept."""
    if Assignment.seed_task.is_cached(assignment) or Assignment.response.is_cached(assignment):
        return assignment
    if assignment.seed_task_id is not None:
        related = SeedTask.objects.select_related("topic", "view", "task_type")
        assignment.seed_task = related.get(pk=assignment.seed_task_id)
    elif assignment.response_id is not None:
        assignment.response = ModelResponse.objects.select_related("prompt", "seed_task").get(pk=assignment.response_id)
    return assignment


def review_queue_for(*, user: User, project: Project) -> QuerySet[Assignment]:
    """The user's own assignments in the project, to-do first (`rank` 0, then the rest), with what the
    queue rows show. Ordered by QUEUE_ORDERING, the keyset its pages follow."""
    return (
        Assignment.objects.filter(project=project, reviewer=user)
        .select_related("seed_task", "response__prompt", "response__seed_task")
        .annotate(rank=QUEUE_RANK)  # to-do first, read in order from the assignment_queue_order index
        .order_by(*QUEUE_ORDERING)
    )


def review_progress(*, user: User, project: Project) -> dict[str, int]:
    """The user's own counts only: done / assigned (skipped items are no longer assigned), read from
    their kept counts (AssignmentCount): one row, however many assignments they have."""
    row = AssignmentCount.objects.filter(project=project, reviewer=user).values("pending", "done", "skipped").first()
    counts = row or dict.fromkeys(AssignmentStatus.values, 0)
    counts["assigned"] = counts["pending"] + counts["done"]
    return counts


def review_current_of(*, assignment: Assignment) -> Review | None:
    """The assignment owner's own current review of the item, if they submitted one."""
    return (
        Review.objects.filter(
            reviewer_id=assignment.reviewer_id,
            seed_task_id=assignment.seed_task_id,
            response_id=assignment.response_id,
            is_current=True,
        )
        .order_by("-id")
        .first()
    )


def reviews_of_others_visible(*, assignment: Assignment) -> list[Review]:
    """Other reviewers' current reviews of the item, when the owner may see them, else nothing.

    Never before the owner has submitted; afterwards only when the project shows reviews after submit
    (the default keeps them hidden until adjudication).
    """
    if assignment.status != AssignmentStatus.DONE:
        return []
    if assignment.project.review_visibility != ReviewVisibility.AFTER_SUBMIT:
        return []
    return list(
        Review.objects.filter(seed_task_id=assignment.seed_task_id, response_id=assignment.response_id, is_current=True)
        .exclude(reviewer_id=assignment.reviewer_id)
        .order_by("id")
    )


def my_reviews(*, user: User, project: Project) -> QuerySet[Review]:
    return Review.objects.filter(project=project, reviewer=user).select_related("schema").order_by("-id")


def my_flags_on(*, user: User, assignment: Assignment) -> QuerySet[ItemFlag]:
    """Flags this user raised on the item; other reviewers' flags stay with the curators."""
    return ItemFlag.objects.filter(
        raised_by=user, seed_task_id=assignment.seed_task_id, response_id=assignment.response_id
    ).order_by("raised_at")


def attention_flags(*, project: Project) -> QuerySet[ItemFlag]:
    """Open unsafe and PHI flags: the curators' attention list."""
    return (
        ItemFlag.objects.filter(project=project, kind__in=BLOCKING_FLAG_KINDS, cleared_at__isnull=True)
        .select_related("raised_by", "seed_task", "response__prompt", "response__seed_task")
        .order_by(*ATTENTION_ORDERING)
    )


def reviewers_with_load(*, project: Project) -> list[Membership]:
    """Project members who review (clinicians), each with `pending` and `done` counts, for curators.

    Two queries whatever the size: the members, then their kept counts (AssignmentCount), one row per
    member. Counting their assignments took 2.2 s at 2.75 million assignments.
    """
    members = list(
        Membership.objects.filter(project=project, user__role="clinician", user__is_active=True)
        .select_related("user")
        .order_by("user__name", "user__email")
    )
    counts = {
        reviewer_id: (pending, done)
        for reviewer_id, pending, done in AssignmentCount.objects.filter(
            project=project, reviewer_id__in=[m.user_id for m in members]
        ).values_list("reviewer_id", "pending", "done")
    }
    for membership in members:
        membership.pending, membership.done = counts.get(membership.user_id, (0, 0))
    return members
