"""Reads of seed tasks and their revision history."""

from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Q, QuerySet

from accounts.models import User
from curation.models import (
    Assignment,
    AssignmentStatus,
    ImportJob,
    ImportStatus,
    Membership,
    Project,
    ReviewVisibility,
    SeedTask,
    SeedTaskSearch,
    TaskEditors,
)

# The words a task is found by: its search document (curation.models.SeedTaskSearch) is built from these
# fields with this configuration (curation.services.seed_task_search.DOCUMENT). Changing either means
# rebuilding every document (manage.py search_index).
SEARCH_CONFIG = "english"
SEARCH_FIELDS = ("instruction", "input", "reference_output")
# Searches matching at most this many tasks (of every project) read their matches from the GIN index alone.
FEW_MATCHES = 2000


def searches_documents() -> bool:
    """Whether search reads the tasks' stored documents (PostgreSQL) rather than their texts (SQLite)."""
    return connection.vendor == "postgresql"


def seed_tasks_of(*, project: Project) -> QuerySet[SeedTask]:
    return SeedTask.objects.filter(project=project).select_related("topic", "view", "task_type")


def seed_tasks_matching(tasks: QuerySet[SeedTask], text: str) -> QuerySet[SeedTask]:
    """Tasks whose instruction, input or reference output contain the words of `text`.

    PostgreSQL: full-text search (English stemming, so "diuretic" finds "diuretics"; quotes and -word as
    in a web search) of the tasks' stored documents, answered from their GIN index. A task an import
    wrote is found once the job after the import has built its document (seed_tasks_not_searchable_yet
    names the imports still waiting); a created or edited task at once. SQLite: a case-insensitive
    substring match, which reads every task of the project; it is meant for development and small
    projects (see the README).
    """
    text = text.strip()
    if not text:
        return tasks
    if searches_documents():
        query = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
        matching = SeedTaskSearch.objects.filter(document=query).values_list("seed_task_id", flat=True)
        # A page is the first matches in id order. PostgreSQL estimates every word it has no statistics for
        # at 0.5% of the documents and then walks the tasks in id order, checking each document: for a rare
        # word that reads every document (0.1 s at 52,000 tasks), where the GIN index answers in a
        # millisecond. So the index is asked first, for a few more than FEW_MATCHES: that many or fewer are
        # the page's candidates themselves; more, and walking in id order finds a page within a few thousand.
        few = list(matching[: FEW_MATCHES + 1])
        return tasks.filter(pk__in=few if len(few) <= FEW_MATCHES else matching)
    return tasks.filter(Q(instruction__icontains=text) | Q(input__icontains=text) | Q(reference_output__icontains=text))


@dataclass(frozen=True)
class ImportNotSearchable:
    """An import whose seed tasks search does not find yet: the job building their documents has not run."""

    import_job_id: int
    file_name: str
    tasks: int


def seed_tasks_not_searchable_yet(*, project: Project) -> list[ImportNotSearchable]:
    """The project's imports whose tasks are not found by search yet, oldest first: one query over the
    project's imports (never over its tasks); none on SQLite, where search reads the tasks themselves."""
    if not searches_documents():
        return []
    jobs = ImportJob.objects.filter(
        project=project,
        status=ImportStatus.SUCCEEDED,
        search_indexed_at__isnull=True,
        report__created__seed_tasks__gt=0,  # an import of responses alone has no tasks to wait for
    ).order_by("created_at", "pk")
    return [
        ImportNotSearchable(pk, file_name, int(tasks))
        for pk, file_name, tasks in jobs.values_list("pk", "file_name", "report__created__seed_tasks")
    ]


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
