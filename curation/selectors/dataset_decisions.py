"""Reads for dataset decisions (accepting or rejecting seed tasks into the dataset): the status a
decision sets, the tasks a filter selects, and what a bulk decision would change.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from curation.filters import SeedTaskFilter
from curation.models import AcceptanceAction, Project, SeedTask, TaskStatus
from curation.selectors.adjudication import SCAN_CHUNK, disagreement_scan


def decision_status(action: str) -> str:
    """The task status an accept or reject decision sets."""
    if action not in AcceptanceAction.values:
        raise ValidationError({"action": f"must be one of {', '.join(AcceptanceAction.values)}"})
    return TaskStatus.ACCEPTED if action == AcceptanceAction.ACCEPT else TaskStatus.REJECTED


def seed_tasks_matching(*, project: Project, filter_params: dict[str, Any]) -> QuerySet[SeedTask]:
    """The project's tasks the task-list filter selects; a value the filter cannot use raises
    ValidationError keyed by filter field."""
    task_filter = SeedTaskFilter(filter_params, queryset=SeedTask.objects.filter(project=project))
    if not task_filter.is_valid():
        raise ValidationError({k: " ".join(v) for k, v in task_filter.errors.items()})
    return task_filter.qs


def disputed_task_ids(*, project: Project, task_ids: list[int]) -> set[int]:
    """Which of the seed tasks `task_ids` have an open disagreement now (found from their own reviews,
    a chunk of tasks at a time, not from the queue a worker last computed, which may be stale)."""
    disputed: set[int] = set()
    for start in range(0, len(task_ids), SCAN_CHUNK):
        chunk = task_ids[start : start + SCAN_CHUNK]
        found = disagreement_scan(project=project, seed_task_ids=chunk)
        disputed.update(d.seed_task_id for d in found if d.seed_task_id and not d.settled)
    return disputed


def tasks_fingerprint(task_ids: Iterable[int]) -> str:
    return hashlib.sha256(",".join(str(i) for i in sorted(task_ids)).encode()).hexdigest()[:32]


# The most tasks one bulk decision changes. A preview stops reading at one more than this, so that a
# filter matching a whole project of a million tasks costs what one matching a few thousand does.
DECISION_LIMIT = 5_000


@dataclass
class DecisionPreview:
    task_ids: list[int]
    matched: int
    already: int
    disputed: int
    # More than `limit` (DECISION_LIMIT) tasks would change: none were read past it, nor searched for disputes.
    over_limit: bool = False
    limit: int = 0

    @property
    def fingerprint(self) -> str:
        return tasks_fingerprint(self.task_ids)


def seed_tasks_decision_preview(
    *, project: Project, action: str, tasks: QuerySet[SeedTask], skip_disputed: bool = True
) -> DecisionPreview:
    """Which of `tasks` (of the project) a bulk decision would change: those not already in the target
    status and, unless asked otherwise, without an open disagreement."""
    status = decision_status(action)
    tasks = tasks.filter(project=project).order_by()
    matched = tasks.count()
    to_change = tasks.exclude(status=status)
    pending = list(to_change.order_by("pk").values_list("pk", flat=True)[: DECISION_LIMIT + 1])
    if len(pending) > DECISION_LIMIT:
        already = matched - to_change.count()
        return DecisionPreview(
            task_ids=[], matched=matched, already=already, disputed=0, over_limit=True, limit=DECISION_LIMIT
        )
    disputed = disputed_task_ids(project=project, task_ids=pending) if skip_disputed else set()
    return DecisionPreview(
        task_ids=[pk for pk in pending if pk not in disputed],
        matched=matched,
        already=matched - len(pending),
        disputed=len(disputed),
        limit=DECISION_LIMIT,
    )
