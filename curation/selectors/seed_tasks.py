"""Reads of seed tasks and their revision history."""

from django.db.models import QuerySet

from curation.models import Project, SeedTask


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
