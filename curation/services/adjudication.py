"""Settling disagreements: how a project finds them, the gold label a curator sets, one more reviewer
when the first k disagree, and the audited decision to accept items into the dataset.

Raw reviews are read here and never written: a gold label links to the reviews it settled and keeps
their distribution per field (the soft label), so a decision never erases the disagreement behind it.
Which items disagree, and what a decision would change, are reads: curation.selectors.adjudication.
"""

from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Role, User
from audit.services import AuditAction, audit_record, text_digest, texts_digested
from curation.models import (
    AcceptanceAction,
    AcceptanceEvent,
    AcceptanceMode,
    AdjudicationSettings,
    Assignment,
    AssignmentStatus,
    Computation,
    ComputationKind,
    DisagreementRule,
    DisputedItem,
    GoldLabel,
    ModelResponse,
    Project,
    RatingSchema,
    ReasonCode,
    Review,
    SeedTask,
)
from curation.schemas.definitions import clean_answers, free_text_keys
from curation.selectors.adjudication import (
    FoundDispute,
    adjudication_settings_of,
    disagreement_scan,
    disagreements_detect,
    fields_in_dispute,
)
from curation.selectors.assignments import pending_counts_of
from curation.selectors.computations import LatestResult, computation_of, latest_result
from curation.selectors.dataset_decisions import decision_status, seed_tasks_decision_preview
from curation.selectors.disagreements import disagreements_data_version
from curation.services.assignments import assignment_counts_add
from curation.services.computations import ComputationOutcome, computation_refresh, computation_request
from curation.services.seed_tasks import seed_task_set_status
from curation.stats.disagreement import soft_label

NOTE_LIMIT = 4_000
FINAL_TEXT_LIMIT = 100_000
BULK_LIMIT = 5_000
DISAGREEMENTS = ComputationKind.DISAGREEMENTS
# Rows written at a time by the worker that finds a project's disagreements: each batch is its own
# short transaction, so reviewers' writes are never held up for the whole run (SQLite has one writer).
WRITE_BATCH = 1000


class AdjudicationConflict(Exception):
    """Someone saved a gold label for the item after this curator loaded it. `current` is that label."""

    def __init__(self, current: GoldLabel | None):
        version = current.version if current else 0
        super().__init__(f"The gold label moved on to version {version} meanwhile")
        self.current = current


def _require_curator(actor: User, doing: str) -> None:
    if not actor.is_curator:
        raise PermissionDenied(f"Only curators and admins may {doing}.")


# --- settings ---------------------------------------------------------------------------------------


@dataclass
class SettingsChange:
    settings: AdjudicationSettings
    overlap_turned_on: bool  # then the worker sends the items already in dispute to one more reviewer


def adjudication_settings_update(
    *, project: Project, actor: User, rule: str, min_spread: int, dynamic_overlap: bool
) -> SettingsChange:
    """Change how the project finds disagreements. Turning dynamic overlap on also sends every item
    whose first k reviewers already disagree to one more reviewer (`overlap_sweep`): on the worker, once
    the settings are saved, since finding them reads every review of the project."""
    _require_curator(actor, "change how disagreements are found")
    with transaction.atomic():
        current, _ = AdjudicationSettings.objects.select_for_update().get_or_create(project=project)
        was_on = current.dynamic_overlap
        current.rule = rule
        current.min_spread = min_spread
        current.dynamic_overlap = dynamic_overlap
        current.updated_by = actor
        current.updated_at = timezone.now()
        current.full_clean()
        current.save(update_fields=["rule", "min_spread", "dynamic_overlap", "updated_by", "updated_at"])
        audit_record(
            action=AuditAction.SETTINGS_CHANGED,
            target=current,
            actor=actor,
            before={"dynamic_overlap": was_on},
            after={"rule": rule, "min_spread": min_spread, "dynamic_overlap": dynamic_overlap},
        )
    turned_on = dynamic_overlap and not was_on
    if turned_on:
        from curation.jobs import overlap_sweep_task  # jobs import services lazily; this is the other direction

        transaction.on_commit(partial(overlap_sweep_task.delay, project.pk))
    # The queue a worker found follows the old rule: find it again under the new one.
    computation_request(project=project, kind=DISAGREEMENTS)
    return SettingsChange(settings=current, overlap_turned_on=turned_on)


# --- adjudicating -----------------------------------------------------------------------------------


def _lock_item(*, seed_task: SeedTask | None, response: ModelResponse | None) -> None:
    if seed_task is not None:
        SeedTask.objects.select_for_update().filter(pk=seed_task.pk).values_list("pk").first()
    else:
        ModelResponse.objects.select_for_update(of=("self",)).filter(pk=response.pk).values_list("pk").first()


def _item_project_id(*, seed_task: SeedTask | None, response: ModelResponse | None) -> int:
    if seed_task is not None:
        return seed_task.project_id
    return (response.seed_task or response.prompt).project_id


def _gold_values(*, schema: RatingSchema, values: dict[str, Any], reason: str, note: str, final_text: str) -> dict:
    """The values checked against the form like a review's answers; raises ValidationError keyed by
    field (and by reason, note or final_text) with every problem at once."""
    errors: dict[str, str] = {}
    if reason not in ReasonCode.values:
        errors["reason"] = f"Choose a reason: {', '.join(ReasonCode.labels)}."
    if len(note) > NOTE_LIMIT:
        errors["note"] = f"must be at most {NOTE_LIMIT:,} characters"
    if len(final_text) > FINAL_TEXT_LIMIT:
        errors["final_text"] = f"must be at most {FINAL_TEXT_LIMIT:,} characters"
    cleaned: dict = {}
    try:
        cleaned = clean_answers(schema.definition, values)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            errors.update({k: " ".join(m for e in v for m in e.messages) for k, v in exc.error_dict.items()})
        else:
            errors["values"] = " ".join(exc.messages)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _save_gold(gold: GoldLabel, *, adjudicator: User, reviews: list[Review]) -> GoldLabel:
    """Save a new version of the label; a racing first adjudication caught by the unique constraint
    becomes an AdjudicationConflict."""
    gold.full_clean()
    gold._history_user = adjudicator
    try:
        with transaction.atomic():
            gold.save()
    except IntegrityError as exc:
        current = GoldLabel.objects.filter(seed_task=gold.seed_task, response=gold.response, schema=gold.schema).first()
        raise AdjudicationConflict(current) from exc
    gold.reviews.set(reviews)
    audit_record(
        action=AuditAction.GOLD_LABEL_SET,
        target=gold,
        actor=adjudicator,
        after={
            "version": gold.version,
            "values": texts_digested(gold.values, free_text_keys(gold.schema.definition)),
            "reason": gold.reason,
            "final_text": text_digest(gold.final_text) if gold.final_text else "",
        },
    )
    return gold


@transaction.atomic
def gold_label_adjudicate(
    *,
    project: Project,
    schema: RatingSchema,
    adjudicator: User,
    values: dict[str, Any],
    reason: str,
    expected_version: int,
    note: str = "",
    final_text: str = "",
    seed_task: SeedTask | None = None,
    response: ModelResponse | None = None,
) -> GoldLabel:
    """Set the gold answer for an item, settling its current reviews under `schema`.

    `expected_version` is the gold label's version the curator started from (0 when there was none);
    if someone saved meanwhile, AdjudicationConflict is raised and nothing changes. Values are checked
    against the form like a review's answers; a bad value raises ValidationError keyed by field.
    """
    _require_curator(adjudicator, "adjudicate")
    if (seed_task is None) == (response is None):
        raise ValidationError("A gold label is for exactly one seed task or one model response.")
    if schema.project_id != project.pk or _item_project_id(seed_task=seed_task, response=response) != project.pk:
        raise ValidationError("The item and the form must both belong to this project.")
    note, final_text = (note or "").strip(), final_text or ""
    cleaned = _gold_values(schema=schema, values=values, reason=reason, note=note, final_text=final_text)

    # Two first adjudications of the same item serialise on the item's row; later ones also on the label.
    _lock_item(seed_task=seed_task, response=response)
    reviews = list(
        Review.objects.filter(seed_task=seed_task, response=response, schema=schema, is_current=True).order_by("id")
    )
    if not reviews:
        raise ValidationError("This item has no reviews under this form to settle.")
    gold = GoldLabel.objects.select_for_update().filter(seed_task=seed_task, response=response, schema=schema).first()
    if (gold.version if gold else 0) != expected_version:
        raise AdjudicationConflict(gold)
    now = timezone.now()
    if gold is None:
        gold = GoldLabel(project=project, schema=schema, seed_task=seed_task, response=response, created_at=now)
    else:
        gold.version += 1
    gold.values = cleaned
    gold.final_text = final_text
    gold.reason = reason
    gold.note = note
    gold.adjudicated_by = adjudicator
    gold.soft_label = soft_label(fields=schema.fields, answers=[r.answers for r in reviews])
    gold.updated_at = now
    saved = _save_gold(gold, adjudicator=adjudicator, reviews=reviews)
    _disputed_item_settle(gold=saved)
    return saved


def _disputed_item_settle(*, gold: GoldLabel) -> None:
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


# --- the queue a worker finds ----------------------------------------------------------------------


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
            _disputed_item_settle(gold=gold)

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
    _require_curator(actor, "recompute the disagreement queue")
    return computation_request(project=project, kind=DISAGREEMENTS)


def disagreements_refresh(*, project: Project) -> Computation:
    """Find the project's disagreements now, in this process, and publish them (CLI, benchmark, tests)."""
    return computation_refresh(project=project, kind=DISAGREEMENTS)


# --- dynamic overlap --------------------------------------------------------------------------------


def _normalise(text: str) -> str:
    return " ".join((text or "").casefold().split())


def _item_topics(*, seed_task: SeedTask | None, response: ModelResponse | None) -> set[str]:
    task = seed_task or (response.seed_task if response is not None else None)
    if task is None:
        return set()
    names = {_normalise(task.topic_raw)}
    if task.topic_id:
        names.add(_normalise(task.topic.name))
    return names - {""}


def _extra_reviewer(
    *, project: Project, seed_task: SeedTask | None, response: ModelResponse | None, barred: set[int]
) -> User | None:
    """A clinician member not in `barred` who has never edited the response's seed task, preferring one
    whose specialty matches the task's topic, then the least loaded."""
    if response is not None and response.seed_task_id:
        barred = barred | set(
            SeedTask.history.filter(id=response.seed_task_id, history_type="~", history_user__isnull=False)
            .values_list("history_user_id", flat=True)
            .distinct()
        )
    candidates = list(
        User.objects.filter(memberships__project=project, role=Role.CLINICIAN, is_active=True).exclude(pk__in=barred)
    )
    if not candidates:
        return None
    load = pending_counts_of(project=project, reviewer_ids=[u.pk for u in candidates])
    topics = _item_topics(seed_task=seed_task, response=response)
    return min(candidates, key=lambda u: (_normalise(u.specialty) not in topics, load.get(u.pk, 0), u.pk))


@transaction.atomic
def overlap_extend(
    *, project: Project, seed_task: SeedTask | None = None, response: ModelResponse | None = None
) -> Assignment | None:
    """When the project asks for it and the item's first k reviewers disagree, give it to one more reviewer.

    The extra reviewer is a clinician member who has never had the item (nor, for a response, edited
    its seed task), preferring one whose specialty matches the task's topic, then the least loaded.
    Idempotent: an item that already has more than k reviewers, or someone still to review it, is left
    alone. Holds the item's row lock, as every path that adds an assignment does (see services.assignments).
    """
    rules = adjudication_settings_of(project=project)
    if not rules.dynamic_overlap or rules.rule == DisagreementRule.SAFETY:
        return None
    if (seed_task is None) == (response is None):
        raise ValidationError("Dynamic overlap is for exactly one seed task or one model response.")
    _lock_item(seed_task=seed_task, response=response)
    k = project.reviewers_per_item
    schema = project.seed_schema if seed_task is not None else project.response_schema
    reviews = list(Review.objects.filter(seed_task=seed_task, response=response, schema=schema, is_current=True))
    reviewed = {r.reviewer_id for r in reviews}
    if len(reviewed) < k:
        return None
    assignments = list(Assignment.objects.filter(seed_task=seed_task, response=response))
    if any(a.status == AssignmentStatus.PENDING for a in assignments):
        return None
    active = reviewed | {a.reviewer_id for a in assignments if a.status == AssignmentStatus.DONE}
    if len(active) > k or not fields_in_dispute(schema=schema, answers=[r.answers for r in reviews], rules=rules):
        return None
    barred = reviewed | {a.reviewer_id for a in assignments}
    chosen = _extra_reviewer(project=project, seed_task=seed_task, response=response, barred=barred)
    if chosen is None:
        return None
    extra = Assignment.objects.create(project=project, reviewer=chosen, seed_task=seed_task, response=response)
    assignment_counts_add(project_id=project.pk, deltas={chosen.pk: {AssignmentStatus.PENDING: 1}})
    return extra


def overlap_sweep(*, project: Project) -> list[Assignment]:
    """Give every item whose first k reviewers already disagree its extra reviewer, e.g. when a project
    turns dynamic overlap on after reviews came in. Each item is handled (and locked) on its own."""
    made = []
    for disagreement in disagreements_detect(project=project):
        if not disagreement.fields:
            continue
        extra = overlap_extend(project=project, seed_task=disagreement.seed_task, response=disagreement.response)
        if extra is not None:
            made.append(extra)
    return made


def overlap_after_review(*, review: Review) -> Assignment | None:
    """The hook review submission calls: cheap when the project has dynamic overlap off."""
    rules = adjudication_settings_of(project=review.project)
    if not rules.dynamic_overlap:
        return None
    return overlap_extend(project=review.project, seed_task=review.seed_task, response=review.response)


# --- accepting items into the dataset ---------------------------------------------------------------


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
    _require_curator(actor, "accept items into the dataset")
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
    _require_curator(actor, "accept items into the dataset")
    preview = seed_tasks_decision_preview(project=project, action=action, tasks=tasks, skip_disputed=skip_disputed)
    if preview.fingerprint != expected_fingerprint:
        raise ValidationError(
            f"The filter now selects a different set of tasks ({len(preview.task_ids)}). Check the preview again."
        )
    if not preview.task_ids:
        raise ValidationError("The filter selects no task to change.")
    if len(preview.task_ids) > BULK_LIMIT:
        raise ValidationError(f"At most {BULK_LIMIT:,} tasks at once; narrow the filter.")
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
