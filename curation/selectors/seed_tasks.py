"""Reads of seed tasks and their revision history."""

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Q, QuerySet

from accounts.models import User
from curation.models import (
    Assignment,
    AssignmentStatus,
    Membership,
    Project,
    ReviewVisibility,
    SeedTask,
    TaskEditors,
)

# The words a task is found by. Migration 0010 indexes exactly this expression (GIN, PostgreSQL only):
# change both together, or searches fall back to reading every task.
SEARCH_CONFIG = "english"
SEARCH_FIELDS = ("instruction", "input", "reference_output")


def seed_tasks_of(*, project: Project) -> QuerySet[SeedTask]:
    return SeedTask.objects.filter(project=project).select_related("topic", "view", "task_type")


def seed_tasks_matching(tasks: QuerySet[SeedTask], text: str) -> QuerySet[SeedTask]:
    """Tasks whose instruction, input or reference output contain the words of `text`.

    PostgreSQL: full-text search (English stemming, so "diuretic" finds "diuretics"; quotes and -word as
    in a web search) answered from the GIN index. SQLite: a case-insensitive substring match, which reads
    every task of the project; it is meant for development and small projects (see the README).
    """
    text = text.strip()
    if not text:
        return tasks
    if connection.vendor == "postgresql":
        vector = SearchVector(*SEARCH_FIELDS, config=SEARCH_CONFIG)
        query = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
        return tasks.alias(search=vector).filter(search=query)
    return tasks.filter(Q(instruction__icontains=text) | Q(input__icontains=text) | Q(reference_output__icontains=text))


def seed_task_editable_by(*, task: SeedTask, user: User) -> bool:
    """Whether `user` may edit the task's content under its project's `task_editors` setting: curators and
    admins always; otherwise members, or under ASSIGNED only those with an assignment to the task or to a
    response to it (whatever its state: a reviewer who submitted may still correct what they reviewed)."""
    if user.is_curator:
        return True
    if not Membership.objects.filter(project_id=task.project_id, user=user).exists():
        return False
    if task.project.task_editors == TaskEditors.MEMBERS:
        return True
    return Assignment.objects.filter(Q(seed_task=task) | Q(response__seed_task=task), reviewer=user).exists()


def seed_task_history_open_to(*, task: SeedTask, viewer: User) -> bool:
    """Whether `viewer` may see who made the task's revisions and why. Blind review, as for reviews:
    curators always; a reviewer of the task (or of a response to it) not before submitting, and after
    only when the project shows others' reviews after submit; members not reviewing it, always."""
    if viewer.is_curator:
        return True
    statuses = set(
        Assignment.objects.filter(Q(seed_task=task) | Q(response__seed_task=task), reviewer=viewer)
        .exclude(status=AssignmentStatus.SKIPPED)
        .values_list("status", flat=True)
    )
    if not statuses:
        return True
    return statuses == {AssignmentStatus.DONE} and task.project.review_visibility == ReviewVisibility.AFTER_SUBMIT


def seed_task_history(*, task: SeedTask, viewer: User | None = None) -> list[dict]:
    """The task's revisions, newest first, each with who, when, why and the fields it changed (old -> new).

    For a `viewer` who may not see others' part (seed_task_history_open_to), revisions made by anyone
    else come with `hidden` set and without their author or rationale.
    """
    records = list(task.history.select_related("history_user").order_by("-history_id"))
    blind = viewer is not None and not seed_task_history_open_to(task=task, viewer=viewer)
    revisions = []
    for newer, older in zip(records, [*records[1:], None], strict=True):
        changes = []
        if older is not None:
            delta = newer.diff_against(older, foreign_keys_are_objs=False)
            changes = [
                {"field": change.field, "old": change.old, "new": change.new}
                for change in delta.changes
                if change.field not in ("version", "accepted_version", "topic", "view", "task_type")
            ]
        hidden = blind and newer.history_user_id != viewer.pk
        revisions.append(
            {
                "version": newer.version,
                "user": None if hidden else newer.history_user,
                "at": newer.history_date,
                "rationale": "" if hidden else newer.history_change_reason or "",
                "kind": {"+": "created", "~": "edited", "-": "deleted"}[newer.history_type],
                "changes": changes,
                "hidden": hidden,
            }
        )
    return revisions
