"""Reads. Each returns a QuerySet with the joins its pages need, so page query counts stay flat."""

from django.db.models import Count, Q, QuerySet

from accounts.models import User
from curation.models import AssignmentStatus, Project, SeedTask


def projects_visible_to(*, user: User) -> QuerySet[Project]:
    """Curators and admins see every project; clinicians see the projects they are members of."""
    if not user.is_authenticated:
        return Project.objects.none()
    if user.is_curator:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user)


def projects_with_my_queue(*, user: User) -> QuerySet[Project]:
    """Visible projects annotated with the user's own assignment counts, for the dashboard."""
    mine = Q(assignments__reviewer=user)
    return projects_visible_to(user=user).annotate(
        task_count=Count("seed_tasks", distinct=True),
        my_pending=Count("assignments", filter=mine & Q(assignments__status=AssignmentStatus.PENDING), distinct=True),
        my_done=Count("assignments", filter=mine & Q(assignments__status=AssignmentStatus.DONE), distinct=True),
    )


def seed_tasks_of(*, project: Project) -> QuerySet[SeedTask]:
    return SeedTask.objects.filter(project=project).select_related("topic", "view", "task_type")


def seed_task_history(*, task: SeedTask) -> list[dict]:
    """The task's revisions, newest first, each with who, when, why and the fields it changed (old -> new)."""
    records = list(task.history.select_related("history_user").order_by("-history_id"))
    revisions = []
    for newer, older in zip(records, [*records[1:], None], strict=True):
        changes = []
        if older is not None:
            delta = newer.diff_against(older, foreign_keys_are_objs=False)
            changes = [
                {"field": change.field, "old": change.old, "new": change.new}
                for change in delta.changes
                if change.field not in ("version", "topic", "view", "task_type")
            ]
        revisions.append(
            {
                "version": newer.version,
                "user": newer.history_user,
                "at": newer.history_date,
                "rationale": newer.history_change_reason or "",
                "kind": {"+": "created", "~": "edited", "-": "deleted"}[newer.history_type],
                "changes": changes,
            }
        )
    return revisions
