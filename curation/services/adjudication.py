"""Settling disagreements: how a project finds them (its adjudication settings) and the gold label a
curator sets for an item.

Raw reviews are read here and never written: a gold label links to the reviews it settled and keeps
their distribution per field (the soft label), so a decision never erases the disagreement behind it.
Which items disagree is a read: curation.selectors.adjudication. The queue a worker finds is
curation.services.disagreements, one more reviewer when the first k disagree is
curation.services.dynamic_overlap, and accepting items into the dataset is
curation.services.dataset_decisions.
"""

from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from audit.services import AuditAction, audit_record, text_digest, texts_digested
from curation.access import require_curator
from curation.models import (
    AdjudicationSettings,
    ComputationKind,
    GoldLabel,
    ModelResponse,
    Project,
    RatingSchema,
    ReasonCode,
    Review,
    SeedTask,
)
from curation.schemas.definitions import clean_answers, free_text_keys
from curation.services.computations import computation_request
from curation.services.disagreements import disputed_item_settle
from curation.stats.disagreement import soft_label

NOTE_LIMIT = 4_000
FINAL_TEXT_LIMIT = 100_000
DISAGREEMENTS = ComputationKind.DISAGREEMENTS


class AdjudicationConflict(Exception):
    """Someone saved a gold label for the item after this curator loaded it. `current` is that label."""

    def __init__(self, current: GoldLabel | None):
        version = current.version if current else 0
        super().__init__(f"The gold label moved on to version {version} meanwhile")
        self.current = current


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
    require_curator(user=actor, doing="change how disagreements are found")
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


def item_lock(*, seed_task: SeedTask | None, response: ModelResponse | None) -> None:
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
    require_curator(user=adjudicator, doing="adjudicate")
    if (seed_task is None) == (response is None):
        raise ValidationError("A gold label is for exactly one seed task or one model response.")
    if schema.project_id != project.pk or _item_project_id(seed_task=seed_task, response=response) != project.pk:
        raise ValidationError("The item and the form must both belong to this project.")
    note, final_text = (note or "").strip(), final_text or ""
    cleaned = _gold_values(schema=schema, values=values, reason=reason, note=note, final_text=final_text)

    # Two first adjudications of the same item serialise on the item's row; later ones also on the label.
    item_lock(seed_task=seed_task, response=response)
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
    disputed_item_settle(gold=saved)
    return saved
