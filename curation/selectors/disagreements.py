"""Reads of the disagreement queue a worker found (curation.services.disagreements): its rows in
queue order, the version of the data it was found from, its last counts per project, and the item a
curator goes to next. Which items disagree, and why, is curation.selectors.adjudication.
"""

from collections.abc import Iterable
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from curation.models import AdjudicationSettings, Computation, ComputationKind, DisputedItem, ItemFlag, Project, Review
from curation.selectors.adjudication import Disagreement
from curation.selectors.computations import computation_of


def disagreements_data_version(*, project: Project, rules: AdjudicationSettings, changes: int) -> str:
    """The version of the data disagreements are found from, in one query of two index look-ups: the
    latest review and flag ids (reviews and flags are added, never edited; a cleared flag bumps
    `changes`), and the rule."""
    latest = (
        Project.objects.filter(pk=project.pk)
        .annotate(
            review=Subquery(Review.objects.filter(project=OuterRef("pk")).order_by("-id").values("id")[:1]),
            flag=Subquery(ItemFlag.objects.filter(project=OuterRef("pk")).order_by("-id").values("id")[:1]),
        )
        .values_list("review", "flag")
        .first()
    )
    review, flag = latest or (None, None)
    return f"reviews:{review or 0}:flags:{flag or 0}:changes:{changes}:rule:{rules.rule}:{rules.min_spread}"


def disputed_items_of(*, project: Project, generation: int, include_settled: bool = False) -> QuerySet[DisputedItem]:
    """The disputed items a worker found in its run `generation`, in queue order (by `position`), with
    what the queue shows of each item."""
    rows = DisputedItem.objects.filter(project=project, generation=generation, position__isnull=False)
    if not include_settled:
        rows = rows.filter(settled=False)
    return rows.select_related("schema", "seed_task", "response__seed_task", "response__prompt").order_by("position")


def disagreements_last_counted(*, project_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Per project, the disagreements to settle when a worker last looked and when that was
    (`{"to_settle", "at"}`, `at` a datetime); projects never looked at are missing. One query."""
    rows = Computation.objects.filter(
        project_id__in=list(project_ids), kind=ComputationKind.DISAGREEMENTS, computed_at__isnull=False
    ).values_list("project_id", "computed_at", "summary")
    return {pk: {"to_settle": summary.get("to_settle", 0), "at": at} for pk, at, summary in rows}


def disagreement_after(*, project: Project, current: Disagreement) -> DisputedItem | None:
    """Where a curator goes once `current` is settled: the next item still to settle in the queue a
    worker last found (wrapping round to the most severe), or None when nothing is left."""
    computation = computation_of(project=project, kind=ComputationKind.DISAGREEMENTS)
    if computation is None or not computation.generation:
        return None
    queue = disputed_items_of(project=project, generation=computation.generation)
    same = {"schema_id": current.schema.pk, "seed_task": current.seed_task, "response": current.response}
    here = (
        DisputedItem.objects.filter(project=project, generation=computation.generation, **same)
        .values_list("position", flat=True)
        .first()
    )
    others = queue.exclude(**same)
    return (others.filter(position__gt=here).first() if here else None) or others.first()
