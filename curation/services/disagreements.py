"""The disagreement queue: a worker searches a whole project for the items whose reviews disagree
(curation.services.computations) and keeps the rows it found; a gold label marks its item settled in
them at once. Pages and the API read the last result with its age (curation.selectors.disagreements);
which items disagree, and why, is curation.selectors.adjudication.
"""

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from curation.access import require_curator
from curation.models import (
    AdjudicationSettings,
    Computation,
    ComputationKind,
    DisputedItem,
    GoldLabel,
    Project,
)
from curation.selectors.adjudication import (
    FoundDispute,
    adjudication_settings_of,
    disagreement_scan,
)
from curation.selectors.computations import LatestResult, computation_of, latest_result
from curation.selectors.disagreements import disagreements_data_version
from curation.services.computations import ComputationOutcome, computation_refresh, computation_request

DISAGREEMENTS = ComputationKind.DISAGREEMENTS
# Rows written at a time by the worker that finds a project's disagreements: each batch is its own
# short transaction, so reviewers' writes are never held up for the whole run (SQLite has one writer).
WRITE_BATCH = 1000


def disputed_item_settle(*, gold: GoldLabel) -> None:
    """The queue a worker found shows the item settled at once (the gold label linked every current
    review), and its counts follow; rows of a run still in progress are marked too."""
    computation = (
        Computation.objects.select_for_update()
        .filter(project_id=gold.project_id, kind=DISAGREEMENTS, subject_id=0)
        .first()
    )
    if computation is None:
        return
    rows = DisputedItem.objects.filter(
        project_id=gold.project_id, seed_task=gold.seed_task, response=gold.response, schema=gold.schema
    )
    newly = rows.filter(generation=computation.generation, settled=False).update(
        settled=True, gold_version=gold.version
    )
    rows.update(settled=True, gold_version=gold.version)
    if newly and computation.result:
        for counts in (computation.result, computation.summary):
            counts["to_settle"] = max(0, counts.get("to_settle", 0) - newly)
            counts["settled"] = counts.get("settled", 0) + newly
        computation.save(update_fields=["result", "summary"])


def _disputed_item(project_id: int, run: int, found: FoundDispute) -> DisputedItem:
    return DisputedItem(
        project_id=project_id,
        generation=run,
        schema_id=found.schema_id,
        seed_task_id=found.seed_task_id,
        response_id=found.response_id,
        safety=bool(found.safety),
        severity=found.max_severity,
        n_fields=len(found.fields),
        item_id=found.item_id,
        level=found.level,
        reasons=found.reasons,
        safety_reasons=found.safety,
        fields=[
            {"key": f.key, "label": f.label, "values": f.values, "spread": f.spread, "severity": f.severity}
            for f in found.fields
        ],
        review_ids=found.review_ids,
        gold_version=found.gold_version,
        settled=found.settled,
    )


def _number_in_queue_order(project_id: int, run: int) -> None:
    """Give the run's rows their places in one statement: safety first, then the widest disagreement,
    the most fields in dispute, the oldest item (and the order found, for ties)."""
    table = connection.ops.quote_name(DisputedItem._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET position = ranked.place FROM ("
            "  SELECT id, ROW_NUMBER() OVER (ORDER BY safety DESC, severity DESC, n_fields DESC, item_id, id) AS place"
            f"  FROM {table} WHERE project_id = %s AND generation = %s"
            f") AS ranked WHERE {table}.id = ranked.id",
            [project_id, run],
        )


def disputed_items_run(*, computation: Computation, run: int) -> ComputationOutcome:
    """The worker's search of a whole project for disagreements (curation.services.computations): the
    run's rows are written beside the shown ones and replace them when the run is published."""
    project = Project.objects.get(pk=computation.project_id)
    rules = adjudication_settings_of(project=project)
    version = disagreements_data_version(project=project, rules=rules, changes=computation.changes)
    started = timezone.now()
    # Rows of runs that died before publishing; the shown run's rows stay until this one replaces them.
    DisputedItem.objects.filter(project=project, generation__lt=run).exclude(generation=computation.generation).delete()
    counts = {"to_settle": 0, "settled": 0}
    batch: list[DisputedItem] = []
    for found in disagreement_scan(project=project, rules=rules):
        counts["settled" if found.settled else "to_settle"] += 1
        batch.append(_disputed_item(project.pk, run, found))
        if len(batch) >= WRITE_BATCH:
            DisputedItem.objects.bulk_create(batch)
            batch = []
    DisputedItem.objects.bulk_create(batch)
    _number_in_queue_order(project.pk, run)
    # A gold label saved while the scan ran may have missed the rows: mark them as its save would.
    for gold in GoldLabel.objects.filter(project=project, updated_at__gte=started):
        with transaction.atomic():
            disputed_item_settle(gold=gold)

    def drop_replaced_rows() -> None:
        shown = Computation.objects.filter(pk=computation.pk).values_list("generation", flat=True).first()
        DisputedItem.objects.filter(project=project, generation__lt=shown).delete()

    return ComputationOutcome(
        data_version=version,
        result={"rule": rules.rule, "min_spread": rules.min_spread, **counts},
        summary=dict(counts),
        after_publish=drop_replaced_rows,
    )


def disagreements_latest(*, project: Project, rules: AdjudicationSettings) -> LatestResult:
    """What the queue page and the API show, found by nobody in the request: the last result (its
    counts in `result`, its rows in DisputedItem under the computation's generation), its age and
    whether reviews, flags or the rule changed since. A project never searched gets a run queued; a
    stale result waits for a curator's Recompute."""
    computation = computation_of(project=project, kind=DISAGREEMENTS)
    if computation is None:
        computation = computation_request(project=project, kind=DISAGREEMENTS)
        computation.refresh_from_db()  # a worker that runs jobs at once (eager) has published it already
    version = disagreements_data_version(project=project, rules=rules, changes=computation.changes)
    return latest_result(computation, data_version=version)


def disagreements_recompute(*, project: Project, actor: User) -> Computation:
    """Queue a new search of the project for disagreements (the queue's Recompute); one already on its
    way is not queued twice."""
    require_curator(user=actor, doing="recompute the disagreement queue")
    return computation_request(project=project, kind=DISAGREEMENTS)


def disagreements_refresh(*, project: Project) -> Computation:
    """Find the project's disagreements now, in this process, and publish them (CLI, benchmark, tests)."""
    return computation_refresh(project=project, kind=DISAGREEMENTS)
