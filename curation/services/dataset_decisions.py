"""Dataset decisions: the audited decision to accept seed tasks into the dataset or reject them, one
task at a time or every task a filter selects. What a decision would change is a read:
curation.selectors.dataset_decisions.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from accounts.models import User
from audit.services import AuditAction, audit_record
from curation.access import require_curator
from curation.models import (
    AcceptanceAction,
    AcceptanceEvent,
    AcceptanceMode,
    Project,
    SeedTask,
)
from curation.selectors.dataset_decisions import DECISION_LIMIT, decision_status, seed_tasks_decision_preview
from curation.services.adjudication import NOTE_LIMIT
from curation.services.seed_tasks import seed_task_set_status


def _decide(*, actor: User, action: str, task_ids: list[int], event: AcceptanceEvent) -> None:
    status = decision_status(action)
    why = f"{AcceptanceAction(action).label.lower()}ed into the dataset (decision #{event.pk})"
    if event.rationale:
        why += f": {event.rationale}"
    for task_id in task_ids:
        seed_task_set_status(task_id=task_id, actor=actor, status=status, rationale=why)
    event.tasks.set(task_ids)
    event.task_count = len(task_ids)
    event.save(update_fields=["task_count"])


@transaction.atomic
def seed_task_decide(*, task: SeedTask, actor: User, action: str, rationale: str = "") -> AcceptanceEvent:
    """Accept or reject one seed task, audited like a bulk decision of one."""
    require_curator(user=actor, doing="accept items into the dataset")
    status = decision_status(action)
    locked = SeedTask.objects.select_for_update().get(pk=task.pk)
    if locked.status == status:
        raise ValidationError(f"Task {task.pk} is already {locked.get_status_display().lower()}.")
    event = AcceptanceEvent.objects.create(
        project_id=locked.project_id,
        action=action,
        mode=AcceptanceMode.SINGLE,
        rationale=(rationale or "").strip()[:NOTE_LIMIT],
        actor=actor,
    )
    audit_record(
        action=AuditAction.TASK_DECIDED,
        target=event,
        actor=actor,
        before={"status": locked.status},
        after={"action": action, "task_ids": [locked.pk]},
    )
    _decide(actor=actor, action=action, task_ids=[locked.pk], event=event)
    return event


@transaction.atomic
def seed_tasks_decide_by_filter(
    *,
    project: Project,
    actor: User,
    action: str,
    tasks: QuerySet[SeedTask],
    filter_params: dict[str, Any],
    expected_fingerprint: str,
    rationale: str = "",
    skip_disputed: bool = True,
) -> AcceptanceEvent:
    """Accept or reject every task of `tasks` (what the filter `filter_params` selects, recorded with the
    decision), as previewed.

    `expected_fingerprint` comes from the preview the curator confirmed: if the filter now selects
    other tasks (new imports, someone else's decision), nothing changes and ValidationError asks for
    a fresh preview.
    """
    require_curator(user=actor, doing="accept items into the dataset")
    preview = seed_tasks_decision_preview(project=project, action=action, tasks=tasks, skip_disputed=skip_disputed)
    if preview.over_limit:
        raise ValidationError(f"At most {DECISION_LIMIT:,} tasks at once; narrow the filter.")
    if preview.fingerprint != expected_fingerprint:
        raise ValidationError(
            f"The filter now selects a different set of tasks ({len(preview.task_ids)}). Check the preview again."
        )
    if not preview.task_ids:
        raise ValidationError("The filter selects no task to change.")
    kept = {k: v for k, v in filter_params.items() if v not in ("", None, [])}
    event = AcceptanceEvent.objects.create(
        project=project,
        action=action,
        mode=AcceptanceMode.FILTER,
        filter_params={**kept, "skip_disputed": skip_disputed},
        rationale=(rationale or "").strip()[:NOTE_LIMIT],
        actor=actor,
    )
    audit_record(
        action=AuditAction.TASK_DECIDED,
        target=event,
        actor=actor,
        after={"action": action, "filter": event.filter_params, "task_ids": preview.task_ids},
    )
    _decide(actor=actor, action=action, task_ids=preview.task_ids, event=event)
    return event
