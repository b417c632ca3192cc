"""Settling disagreements: which items need a curator, the gold label a curator sets, one more reviewer
when the first k disagree, and the audited decision to accept items into the dataset.

Raw reviews are read here and never written: a gold label links to the reviews it settled and keeps
their distribution per field (the soft label), so a decision never erases the disagreement behind it.
"""

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import Role, User
from curation.models import (
    BLOCKING_FLAG_KINDS,
    AcceptanceAction,
    AcceptanceEvent,
    AcceptanceMode,
    AdjudicationSettings,
    Assignment,
    AssignmentStatus,
    DisagreementRule,
    FlagKind,
    GoldLabel,
    ItemFlag,
    ModelResponse,
    Project,
    RatingSchema,
    ReasonCode,
    Review,
    SeedTask,
    TaskStatus,
)
from curation.schemas.definitions import clean_answers, field_level, field_options
from curation.services.seed_tasks import seed_task_set_status

FLAG_ANSWER_FIELD = "flags"
NOTE_LIMIT = 4_000
FINAL_TEXT_LIMIT = 100_000
BULK_LIMIT = 5_000


class AdjudicationConflict(Exception):
    """Someone saved a gold label for the item after this curator loaded it. `current` is that label."""

    def __init__(self, current: GoldLabel | None):
        version = current.version if current else 0
        super().__init__(f"The gold label moved on to version {version} meanwhile")
        self.current = current


# --- settings ---------------------------------------------------------------------------------------


def adjudication_settings_of(*, project: Project) -> AdjudicationSettings:
    """The project's settings, or the defaults (unsaved) when a curator has not changed them."""
    found = AdjudicationSettings.objects.filter(project=project).first()
    return found or AdjudicationSettings(project=project)


@transaction.atomic
def adjudication_settings_update(
    *, project: Project, actor: User, rule: str, min_spread: int, dynamic_overlap: bool
) -> AdjudicationSettings:
    if not actor.is_curator:
        raise PermissionDenied("Only curators and admins may change how disagreements are found.")
    current, _ = AdjudicationSettings.objects.select_for_update().get_or_create(project=project)
    current.rule = rule
    current.min_spread = min_spread
    current.dynamic_overlap = dynamic_overlap
    current.updated_by = actor
    current.updated_at = timezone.now()
    current.full_clean()
    current.save(update_fields=["rule", "min_spread", "dynamic_overlap", "updated_by", "updated_at"])
    return current


# --- comparing ratings ------------------------------------------------------------------------------


def _position(field: dict, value: Any) -> float | None:
    """Where a rating sits on an ordered field (a scale point, a number, the rank of an ordinal choice)."""
    kind = field["kind"]
    if kind in ("ordinal_scale", "number") and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind == "single_choice" and field_level(field) == "ordinal":
        values = [o["value"] for o in field_options(field)]
        return float(values.index(value)) if value in values else None
    return None


def _width(field: dict) -> float | None:
    kind = field["kind"]
    if kind == "ordinal_scale":
        return float(field["max"] - field["min"])
    if kind == "number" and field.get("min") is not None and field.get("max") is not None:
        return float(field["max"] - field["min"])
    if kind == "single_choice" and field_level(field) == "ordinal":
        return float(len(field_options(field)) - 1)
    return None


def _comparable(field: dict, value: Any) -> Any:
    if isinstance(value, list):
        return tuple(sorted(str(v) for v in value))
    return value


def _is_answered(field: dict, value: Any) -> bool:
    if field["kind"] in ("multiple_choice", "rubric"):
        return True  # nothing ticked is an answer too: "none of these"
    return value is not None and value != ""


@dataclass
class FieldDisagreement:
    key: str
    label: str
    values: list[Any]
    spread: float | None
    severity: float  # 0..1: how far apart, relative to the field's range or to a unanimous answer
    option_labels: dict[str, str] = field(default_factory=dict)

    @property
    def description(self) -> str:
        shown = ", ".join(_display(v, self.option_labels) for v in self.values)
        if self.spread is not None:
            return f"{self.label}: {shown} (spread {self.spread:g})"
        return f"{self.label}: {shown}"


def _display(value: Any, labels: dict[str, str]) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(labels.get(str(v), str(v)) for v in value) + "]" if value else "(none)"
    return labels.get(str(value), str(value))


def field_disagreement(*, field: dict, answers: list[dict], rule: str, min_spread: int) -> FieldDisagreement | None:
    """Whether the reviewers' answers to one field disagree under `rule`; free text never does."""
    if field["kind"] == "free_text" or rule == DisagreementRule.SAFETY:
        return None
    key = field["key"]
    present = [a.get(key, [] if field["kind"] in ("multiple_choice", "rubric") else None) for a in answers]
    present = [v for v in present if _is_answered(field, v)]
    if len(present) < 2:
        return None
    distinct = Counter(_comparable(field, v) for v in present)
    if len(distinct) < 2:
        return None
    positions = [p for p in (_position(field, v) for v in present) if p is not None]
    spread = max(positions) - min(positions) if len(positions) == len(present) else None
    if spread is not None:
        if rule == DisagreementRule.SPREAD and spread < min_spread:
            return None
        width = _width(field)
        severity = min(1.0, spread / width) if width else 1.0
    else:
        severity = 1 - max(distinct.values()) / len(present)
    if field["kind"] == "rubric":
        option_labels = {c["key"]: c.get("label") or c["key"] for c in field["criteria"]}
    else:
        option_labels = {o["value"]: o.get("label") or o["value"] for o in field_options(field)}
    return FieldDisagreement(
        key=key,
        label=field.get("label") or key,
        values=present,
        spread=spread,
        severity=round(severity, 4),
        option_labels=option_labels,
    )


def _safety_answers(answers: Iterable[dict]) -> set[str]:
    found = set()
    for a in answers:
        chosen = a.get(FLAG_ANSWER_FIELD) if isinstance(a, dict) else None
        if isinstance(chosen, list):
            found.update(kind for kind in chosen if kind in BLOCKING_FLAG_KINDS)
    return found


# --- the disagreement queue -------------------------------------------------------------------------


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


def _item_key(obj: Any) -> tuple[str, int]:
    return ("seed_task", obj.seed_task_id) if obj.seed_task_id else ("response", obj.response_id)


def disagreements_detect(
    *, project: Project, include_settled: bool = False, rules: AdjudicationSettings | None = None
) -> list[Disagreement]:
    """Items whose current reviews disagree under the project's rule, or that carry a safety flag,
    most severe first: safety flags, then the widest disagreement, then the most fields in dispute."""
    rules = rules or adjudication_settings_of(project=project)
    reviews = (
        Review.objects.filter(project=project, is_current=True)
        .select_related("schema", "reviewer", "seed_task", "response__seed_task", "response__prompt")
        .order_by("id")
    )
    groups: dict[tuple[str, int, int], list[Review]] = {}
    for review in reviews:
        groups.setdefault((*_item_key(review), review.schema_id), []).append(review)
    flags: dict[tuple[str, int], set[str]] = {}
    flagged_items: dict[tuple[str, int], ItemFlag] = {}
    open_flags = ItemFlag.objects.filter(project=project, kind__in=BLOCKING_FLAG_KINDS, cleared_at__isnull=True)
    for flag in open_flags.select_related("seed_task", "response__seed_task", "response__prompt"):
        key = _item_key(flag)
        flags.setdefault(key, set()).add(flag.kind)
        flagged_items[key] = flag
    # A flagged item nobody has rated yet is still the curators' to look at, under the project's form.
    flag_only: dict[tuple[str, int, int], tuple[ItemFlag, RatingSchema]] = {}
    rated = {g[:2] for g in groups}
    for key, flag in flagged_items.items():
        if key not in rated:
            schema = project.seed_schema if key[0] == "seed_task" else project.response_schema
            if schema is not None:
                groups[(*key, schema.pk)] = []
                flag_only[(*key, schema.pk)] = (flag, schema)
    golds = {
        (*_item_key(g), g.schema_id): g
        for g in GoldLabel.objects.filter(project=project).prefetch_related("reviews").select_related("adjudicated_by")
    }
    found = []
    for group_key, members in groups.items():
        item_key = group_key[:2]
        if members:
            schema, seed_task, response = members[0].schema, members[0].seed_task, members[0].response
        else:
            flag, schema = flag_only[group_key]
            seed_task, response = flag.seed_task, flag.response
        answers = [r.answers for r in members]
        safety = sorted(flags.get(item_key, set()) | _safety_answers(answers))
        disagreement = Disagreement(
            schema=schema,
            seed_task=seed_task,
            response=response,
            reviews=members,
            safety=[f"Safety flag: {FlagKind(kind).label}" for kind in safety],
            gold=golds.get(group_key),
        )
        if len(members) >= 2:
            for schema_field in schema.fields:
                found_field = field_disagreement(
                    field=schema_field, answers=answers, rule=rules.rule, min_spread=rules.min_spread
                )
                if found_field is not None:
                    disagreement.fields.append(found_field)
        if not (disagreement.safety or disagreement.fields):
            continue
        if disagreement.settled and not include_settled:
            continue
        found.append(disagreement)
    found.sort(key=lambda d: d.sort_key, reverse=True)
    return found


def disagreement_for_item(
    *, project: Project, schema: RatingSchema, seed_task: SeedTask | None = None, response: ModelResponse | None = None
) -> Disagreement:
    """The item's current reviews under `schema` and what, if anything, the rule finds in them."""
    rules = adjudication_settings_of(project=project)
    reviews = list(
        Review.objects.filter(seed_task=seed_task, response=response, schema=schema, is_current=True)
        .select_related("reviewer")
        .order_by("id")
    )
    answers = [r.answers for r in reviews]
    flags = set(
        ItemFlag.objects.filter(
            seed_task=seed_task, response=response, kind__in=BLOCKING_FLAG_KINDS, cleared_at__isnull=True
        ).values_list("kind", flat=True)
    )
    disagreement = Disagreement(
        schema=schema,
        seed_task=seed_task,
        response=response,
        reviews=reviews,
        safety=[f"Safety flag: {FlagKind(kind).label}" for kind in sorted(flags | _safety_answers(answers))],
        gold=GoldLabel.objects.filter(seed_task=seed_task, response=response, schema=schema)
        .prefetch_related("reviews")
        .first(),
    )
    if len(reviews) >= 2:
        for schema_field in schema.fields:
            found = field_disagreement(
                field=schema_field, answers=answers, rule=rules.rule, min_spread=rules.min_spread
            )
            if found is not None:
                disagreement.fields.append(found)
    return disagreement


# --- soft label and majority ------------------------------------------------------------------------


def soft_label_of(*, schema: RatingSchema, reviews: Iterable[Review]) -> dict[str, dict]:
    """Per rated field: how many reviewers answered (`n`) and how many gave each value (`counts`).

    For multiple-choice and rubric fields each ticked option counts once per reviewer, so a count
    over `n` is the share of reviewers who ticked it. Values are keyed as text (JSON object keys).
    """
    answers = [r.answers for r in reviews]
    label = {}
    for schema_field in schema.fields:
        if schema_field["kind"] == "free_text":
            continue
        key = schema_field["key"]
        multi = schema_field["kind"] in ("multiple_choice", "rubric")
        counts: Counter = Counter()
        n = 0
        for a in answers:
            value = a.get(key, [] if multi else None)
            if not _is_answered(schema_field, value):
                continue
            n += 1
            for v in value if multi else [value]:
                counts[str(v)] += 1
        label[key] = {"n": n, "counts": dict(sorted(counts.items()))}
    return label


def majority_values(*, schema: RatingSchema, reviews: Iterable[Review]) -> dict[str, Any]:
    """The value most reviewers gave each field, to prefill the gold form. A tie prefills nothing:
    the curator decides. For multiple-choice fields, the options more than half the reviewers ticked."""
    answers = [r.answers for r in reviews]
    prefill: dict[str, Any] = {}
    for schema_field in schema.fields:
        key = schema_field["key"]
        if schema_field["kind"] == "free_text":
            continue
        if schema_field["kind"] in ("multiple_choice", "rubric"):
            ticked: Counter = Counter(v for a in answers for v in (a.get(key) or []))
            prefill[key] = [v for v, c in ticked.items() if c * 2 > len(answers)]
            continue
        values = Counter(
            _comparable(schema_field, a.get(key)) for a in answers if _is_answered(schema_field, a.get(key))
        )
        ranked = values.most_common(2)
        if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
            prefill[key] = ranked[0][0]
    return prefill


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
    if not adjudicator.is_curator:
        raise PermissionDenied("Only curators and admins may adjudicate.")
    if (seed_task is None) == (response is None):
        raise ValidationError("A gold label is for exactly one seed task or one model response.")
    if schema.project_id != project.pk or _item_project_id(seed_task=seed_task, response=response) != project.pk:
        raise ValidationError("The item and the form must both belong to this project.")
    errors: dict[str, str] = {}
    if reason not in ReasonCode.values:
        errors["reason"] = f"Choose a reason: {', '.join(ReasonCode.labels)}."
    note = (note or "").strip()
    if len(note) > NOTE_LIMIT:
        errors["note"] = f"must be at most {NOTE_LIMIT:,} characters"
    final_text = final_text or ""
    if len(final_text) > FINAL_TEXT_LIMIT:
        errors["final_text"] = f"must be at most {FINAL_TEXT_LIMIT:,} characters"
    try:
        cleaned = clean_answers(schema.definition, values)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            errors.update({k: " ".join(m for e in v for m in e.messages) for k, v in exc.error_dict.items()})
        else:
            errors["values"] = " ".join(exc.messages)
    if errors:
        raise ValidationError(errors)

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
    gold.soft_label = soft_label_of(schema=schema, reviews=reviews)
    gold.updated_at = now
    gold.full_clean()
    gold._history_user = adjudicator
    try:
        with transaction.atomic():
            gold.save()
    except IntegrityError as exc:  # the unique constraint caught a racing first adjudication
        raise AdjudicationConflict(
            GoldLabel.objects.filter(seed_task=seed_task, response=response, schema=schema).first()
        ) from exc
    gold.reviews.set(reviews)
    return gold


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


@transaction.atomic
def overlap_extend(
    *, project: Project, seed_task: SeedTask | None = None, response: ModelResponse | None = None
) -> Assignment | None:
    """When the project asks for it and the item's first k reviewers disagree, give it to one more reviewer.

    The extra reviewer is a clinician member who has never had the item (nor, for a response, edited
    its seed task), preferring one whose specialty matches the task's topic, then the least loaded.
    Idempotent: an item that already has more than k reviewers, or someone still to review it, is left
    alone. Holds the item's row lock, as every path that adds an assignment does (see services.assignment).
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
    if len(active) > k:
        return None
    answers = [r.answers for r in reviews]
    if not any(
        field_disagreement(field=f, answers=answers, rule=rules.rule, min_spread=rules.min_spread)
        for f in schema.fields
    ):
        return None
    barred = reviewed | {a.reviewer_id for a in assignments}
    if response is not None and response.seed_task_id:
        barred |= set(
            SeedTask.history.filter(id=response.seed_task_id, history_type="~", history_user__isnull=False)
            .values_list("history_user_id", flat=True)
            .distinct()
        )
    candidates = list(
        User.objects.filter(memberships__project=project, role=Role.CLINICIAN, is_active=True)
        .exclude(pk__in=barred)
        .annotate(
            load=Count(
                "assignments",
                filter=Q(assignments__project=project, assignments__status=AssignmentStatus.PENDING),
            )
        )
    )
    if not candidates:
        return None
    topics = _item_topics(seed_task=seed_task, response=response)
    chosen = min(candidates, key=lambda u: (_normalise(u.specialty) not in topics, u.load, u.pk))
    return Assignment.objects.create(project=project, reviewer=chosen, seed_task=seed_task, response=response)


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


def _status_for(action: str) -> str:
    if action not in AcceptanceAction.values:
        raise ValidationError({"action": f"must be one of {', '.join(AcceptanceAction.values)}"})
    return TaskStatus.ACCEPTED if action == AcceptanceAction.ACCEPT else TaskStatus.REJECTED


def disputed_task_ids(*, project: Project) -> set[int]:
    return {d.seed_task.pk for d in disagreements_detect(project=project) if d.seed_task is not None}


@dataclass
class DecisionPreview:
    task_ids: list[int]
    matched: int
    already: int
    disputed: int

    @property
    def fingerprint(self) -> str:
        return tasks_fingerprint(self.task_ids)


def tasks_fingerprint(task_ids: Iterable[int]) -> str:
    return hashlib.sha256(",".join(str(i) for i in sorted(task_ids)).encode()).hexdigest()[:32]


def seed_tasks_decision_preview(
    *, project: Project, action: str, filter_params: dict[str, Any], skip_disputed: bool = True
) -> DecisionPreview:
    """Which tasks a bulk decision by filter would change: those matching the task-list filter, not
    already in the target status and, unless asked otherwise, without an open disagreement."""
    from curation.filters import SeedTaskFilter

    status = _status_for(action)
    task_filter = SeedTaskFilter(filter_params, queryset=SeedTask.objects.filter(project=project))
    if not task_filter.is_valid():
        raise ValidationError({k: " ".join(v) for k, v in task_filter.errors.items()})
    matched = list(task_filter.qs.order_by("pk").values_list("pk", "status"))
    pending = [pk for pk, current in matched if current != status]
    disputed = disputed_task_ids(project=project) & set(pending) if skip_disputed else set()
    return DecisionPreview(
        task_ids=[pk for pk in pending if pk not in disputed],
        matched=len(matched),
        already=len(matched) - len(pending),
        disputed=len(disputed),
    )


def _decide(*, project: Project, actor: User, action: str, task_ids: list[int], event: AcceptanceEvent) -> None:
    status = _status_for(action)
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
    if not actor.is_curator:
        raise PermissionDenied("Only curators and admins may accept items into the dataset.")
    status = _status_for(action)
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
    _decide(project=locked.project, actor=actor, action=action, task_ids=[locked.pk], event=event)
    return event


@transaction.atomic
def seed_tasks_decide_by_filter(
    *,
    project: Project,
    actor: User,
    action: str,
    filter_params: dict[str, Any],
    expected_fingerprint: str,
    rationale: str = "",
    skip_disputed: bool = True,
) -> AcceptanceEvent:
    """Accept or reject every task the filter selects, as previewed.

    `expected_fingerprint` comes from the preview the curator confirmed: if the filter now selects
    other tasks (new imports, someone else's decision), nothing changes and ValidationError asks for
    a fresh preview.
    """
    if not actor.is_curator:
        raise PermissionDenied("Only curators and admins may accept items into the dataset.")
    preview = seed_tasks_decision_preview(
        project=project, action=action, filter_params=filter_params, skip_disputed=skip_disputed
    )
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
    _decide(project=project, actor=actor, action=action, task_ids=preview.task_ids, event=event)
    return event
