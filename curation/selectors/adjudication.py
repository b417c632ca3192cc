"""Reads for adjudication: which items need a curator and why, what a bulk decision would change, and
which form an item is adjudicated under. The item page's views of an item are
curation.selectors.adjudication_item.

Raw reviews are only read: the comparisons themselves are curation.stats.disagreement.
"""

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from curation.filters import SeedTaskFilter
from curation.models import (
    BLOCKING_FLAG_KINDS,
    FLAG_ANSWER_FIELD,
    AcceptanceAction,
    AdjudicationSettings,
    FlagKind,
    GoldLabel,
    ItemFlag,
    ModelResponse,
    Project,
    RatingSchema,
    Review,
    SeedTask,
    TaskStatus,
)
from curation.schemas.definitions import field_options
from curation.stats.disagreement import FieldDisagreement, field_disagreement

SAFETY_KINDS = BLOCKING_FLAG_KINDS
DISAGREEMENTS_SEEN_SECONDS = 30 * 24 * 3600


def adjudication_settings_of(*, project: Project) -> AdjudicationSettings:
    """The project's settings, or the defaults (unsaved) when a curator has not changed them."""
    found = AdjudicationSettings.objects.filter(project=project).first()
    return found or AdjudicationSettings(project=project)


def fields_in_dispute(
    *, schema: RatingSchema, answers: list[dict], rules: AdjudicationSettings
) -> list[FieldDisagreement]:
    """The fields of `schema` on which `answers` (two or more) disagree under the project's rule."""
    if len(answers) < 2:
        return []
    found = (
        field_disagreement(
            field=f, answers=answers, rule=rules.rule, min_spread=rules.min_spread, options=field_options(f)
        )
        for f in schema.fields
    )
    return [f for f in found if f is not None]


def _safety_answers(answers: Iterable[dict]) -> set[str]:
    found = set()
    for a in answers:
        chosen = a.get(FLAG_ANSWER_FIELD) if isinstance(a, dict) else None
        if isinstance(chosen, list):
            found.update(kind for kind in chosen if kind in SAFETY_KINDS)
    return found


def _safety_reasons(flags: set[str], answers: Iterable[dict]) -> list[str]:
    return [f"Safety flag: {FlagKind(kind).label}" for kind in sorted(flags | _safety_answers(answers))]


@dataclass
class Disagreement:
    """One item (under one rating form) whose reviews need a curator, with every reason the rule fired."""

    schema: RatingSchema
    seed_task: SeedTask | None
    response: ModelResponse | None
    reviews: list[Review]
    fields: list[FieldDisagreement] = field(default_factory=list)
    safety: list[str] = field(default_factory=list)
    gold: GoldLabel | None = None

    @property
    def item(self) -> SeedTask | ModelResponse:
        return self.seed_task or self.response

    @property
    def item_type(self) -> str:
        return "seed_task" if self.seed_task is not None else "response"

    @property
    def item_name(self) -> str:
        return f"task {self.item.pk}" if self.seed_task is not None else f"response {self.item.pk}"

    @property
    def group_key(self) -> "GroupKey":
        return (self.item_type, self.item.pk, self.schema.pk)

    @property
    def settled(self) -> bool:
        """A gold label exists and no review has arrived since it was set."""
        if self.gold is None:
            return False
        linked = {r.pk for r in self.gold.reviews.all()}
        return all(r.pk in linked for r in self.reviews)

    @property
    def max_severity(self) -> float:
        return max((f.severity for f in self.fields), default=0.0)

    @property
    def sort_key(self) -> tuple:
        return (bool(self.safety), self.max_severity, len(self.fields), -self.item.pk)

    @property
    def level(self) -> str:
        if self.safety:
            return "safety"
        if self.max_severity >= 0.75:
            return "high"
        if self.max_severity >= 0.5:
            return "medium"
        return "low"

    @property
    def reasons(self) -> list[str]:
        return [*self.safety, *(f.description for f in self.fields)]


ItemKey = tuple[str, int]  # ("seed_task" | "response", id)
GroupKey = tuple[str, int, int]  # an item under one rating form: (*item key, schema id)


def _item_key(obj: Any) -> ItemKey:
    return ("seed_task", obj.seed_task_id) if obj.seed_task_id else ("response", obj.response_id)


def _current_reviews(project: Project) -> dict[GroupKey, list[Review]]:
    reviews = (
        Review.objects.filter(project=project, is_current=True)
        .select_related("schema", "reviewer", "seed_task", "response__seed_task", "response__prompt")
        .order_by("id")
    )
    groups: dict[GroupKey, list[Review]] = {}
    for review in reviews:
        groups.setdefault((*_item_key(review), review.schema_id), []).append(review)
    return groups


def _open_safety_flags(project: Project) -> dict[ItemKey, tuple[set[str], ItemFlag]]:
    """Per flagged item: the kinds of its open safety flags, and one of the flags (to reach the item)."""
    found: dict[ItemKey, tuple[set[str], ItemFlag]] = {}
    flags = ItemFlag.objects.filter(project=project, kind__in=SAFETY_KINDS, cleared_at__isnull=True).select_related(
        "seed_task", "response__seed_task", "response__prompt"
    )
    for flag in flags:
        kinds = found.get(_item_key(flag), (set(), flag))[0]
        kinds.add(flag.kind)
        found[_item_key(flag)] = (kinds, flag)
    return found


def _flagged_unrated(
    project: Project, flags: dict[ItemKey, tuple[set[str], ItemFlag]], rated: set[ItemKey]
) -> dict[GroupKey, tuple[ItemFlag, RatingSchema]]:
    """A flagged item nobody has rated yet is still the curators' to look at, under the project's form."""
    unrated = {}
    for key, (_, flag) in flags.items():
        if key not in rated:
            schema = project.seed_schema if key[0] == "seed_task" else project.response_schema
            if schema is not None:
                unrated[(*key, schema.pk)] = (flag, schema)
    return unrated


def disagreements_detect(
    *, project: Project, include_settled: bool = False, rules: AdjudicationSettings | None = None
) -> list[Disagreement]:
    """Items whose current reviews disagree under the project's rule, or that carry a safety flag,
    most severe first: safety flags, then the widest disagreement, then the most fields in dispute."""
    rules = rules or adjudication_settings_of(project=project)
    groups = _current_reviews(project)
    flags = _open_safety_flags(project)
    unrated = _flagged_unrated(project, flags, {g[:2] for g in groups})
    golds = {
        (*_item_key(g), g.schema_id): g
        for g in GoldLabel.objects.filter(project=project).prefetch_related("reviews").select_related("adjudicated_by")
    }
    found = []
    for group_key in [*groups, *unrated]:
        members = groups.get(group_key, [])
        if members:
            schema, seed_task, response = members[0].schema, members[0].seed_task, members[0].response
        else:
            flag, schema = unrated[group_key]
            seed_task, response = flag.seed_task, flag.response
        answers = [r.answers for r in members]
        disagreement = Disagreement(
            schema=schema,
            seed_task=seed_task,
            response=response,
            reviews=members,
            fields=fields_in_dispute(schema=schema, answers=answers, rules=rules),
            safety=_safety_reasons(flags.get(group_key[:2], (set(),))[0], answers),
            gold=golds.get(group_key),
        )
        if not (disagreement.safety or disagreement.fields):
            continue
        if disagreement.settled and not include_settled:
            continue
        found.append(disagreement)
    found.sort(key=lambda d: d.sort_key, reverse=True)
    return found


@dataclass
class DisagreementQueue:
    """The queue as a view shows it, with both counts whatever the view: items still to settle, and settled ones."""

    items: list[Disagreement]
    to_settle: int
    settled: int


def disagreement_queue(
    *, project: Project, include_settled: bool = False, rules: AdjudicationSettings | None = None
) -> DisagreementQueue:
    found = disagreements_detect(project=project, include_settled=True, rules=rules)
    settled = sum(1 for d in found if d.settled)
    shown = found if include_settled else [d for d in found if not d.settled]
    # Detection reads every current review: the dashboard shows this count, with its age, instead.
    cache.set(
        _waiting_key(project.pk),
        {"to_settle": len(found) - settled, "at": timezone.now().isoformat()},
        DISAGREEMENTS_SEEN_SECONDS,
    )
    return DisagreementQueue(items=shown, to_settle=len(found) - settled, settled=settled)


def _waiting_key(project_id: int) -> str:
    return f"disagreements-waiting:v1:{project_id}"


def disagreements_last_counted(*, project_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Per project, the disagreements to settle when the queue was last opened and when that was
    (`{"to_settle", "at"}`, `at` a datetime); projects whose queue nobody opened lately are missing.
    One cache read, no query."""
    ids = list(project_ids)
    found = cache.get_many([_waiting_key(pk) for pk in ids])
    counted = {}
    for pk in ids:
        entry = found.get(_waiting_key(pk))
        if entry is not None:
            counted[pk] = {"to_settle": entry["to_settle"], "at": datetime.fromisoformat(entry["at"])}
    return counted


def disagreement_after(*, project: Project, current: Disagreement) -> Disagreement | None:
    """Where a curator goes once `current` is settled: the next item still to settle in queue order
    (wrapping round to the most severe), or None when nothing is left."""
    queue = [d for d in disagreements_detect(project=project) if d.group_key != current.group_key]
    later = [d for d in queue if d.sort_key < current.sort_key]
    return (later or queue or [None])[0]


def disagreement_for_item(
    *, project: Project, schema: RatingSchema, seed_task: SeedTask | None = None, response: ModelResponse | None = None
) -> Disagreement:
    """The item's current reviews under `schema` and what, if anything, the rule finds in them."""
    reviews = list(
        Review.objects.filter(seed_task=seed_task, response=response, schema=schema, is_current=True)
        .select_related("reviewer")
        .order_by("id")
    )
    answers = [r.answers for r in reviews]
    flags = set(
        ItemFlag.objects.filter(
            seed_task=seed_task, response=response, kind__in=SAFETY_KINDS, cleared_at__isnull=True
        ).values_list("kind", flat=True)
    )
    return Disagreement(
        schema=schema,
        seed_task=seed_task,
        response=response,
        reviews=reviews,
        fields=fields_in_dispute(schema=schema, answers=answers, rules=adjudication_settings_of(project=project)),
        safety=_safety_reasons(flags, answers),
        gold=GoldLabel.objects.filter(seed_task=seed_task, response=response, schema=schema)
        .prefetch_related("reviews")
        .first(),
    )


# --- what a decision would change -------------------------------------------------------------------


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


def disputed_task_ids(*, project: Project) -> set[int]:
    return {d.seed_task.pk for d in disagreements_detect(project=project) if d.seed_task is not None}


def tasks_fingerprint(task_ids: Iterable[int]) -> str:
    return hashlib.sha256(",".join(str(i) for i in sorted(task_ids)).encode()).hexdigest()[:32]


@dataclass
class DecisionPreview:
    task_ids: list[int]
    matched: int
    already: int
    disputed: int

    @property
    def fingerprint(self) -> str:
        return tasks_fingerprint(self.task_ids)


def seed_tasks_decision_preview(
    *, project: Project, action: str, tasks: QuerySet[SeedTask], skip_disputed: bool = True
) -> DecisionPreview:
    """Which of `tasks` (of the project) a bulk decision would change: those not already in the target
    status and, unless asked otherwise, without an open disagreement."""
    status = decision_status(action)
    matched = list(tasks.filter(project=project).order_by("pk").values_list("pk", "status"))
    pending = [pk for pk, current in matched if current != status]
    disputed = disputed_task_ids(project=project) & set(pending) if skip_disputed else set()
    return DecisionPreview(
        task_ids=[pk for pk in pending if pk not in disputed],
        matched=len(matched),
        already=len(matched) - len(pending),
        disputed=len(disputed),
    )


# --- the item page ----------------------------------------------------------------------------------


def schema_for_item(
    *, project: Project, seed_task: SeedTask | None, response: ModelResponse | None, schema_id: str | None
) -> RatingSchema | None:
    """The form to adjudicate under: the one asked for, else the one most current reviews used, else the project's."""
    schemas = RatingSchema.objects.filter(project=project)
    if schema_id and schema_id.isdigit():
        return schemas.filter(pk=int(schema_id)).first()
    used = Counter(
        Review.objects.filter(seed_task=seed_task, response=response, is_current=True).values_list(
            "schema_id", flat=True
        )
    )
    if used:
        return schemas.filter(pk=used.most_common(1)[0][0]).first()
    return project.seed_schema if seed_task is not None else project.response_schema
