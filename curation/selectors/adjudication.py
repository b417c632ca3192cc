"""Reads for adjudication: the project's rule for finding disagreements, which items it finds and
why, and the form and the disagreement an item is adjudicated under. The queue a worker last found
is curation.selectors.disagreements; what a bulk decision would change is
curation.selectors.dataset_decisions; the item page's views of an item are
curation.selectors.adjudication_item.

Raw reviews are only read: the comparisons themselves are curation.stats.disagreement.
"""

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db.models import Q

from curation.models import (
    BLOCKING_FLAG_KINDS,
    FLAG_ANSWER_FIELD,
    AdjudicationSettings,
    FlagKind,
    GoldLabel,
    ItemFlag,
    ModelResponse,
    Project,
    RatingSchema,
    Review,
    SeedTask,
)
from curation.schemas.definitions import field_options
from curation.stats.disagreement import FieldDisagreement, field_disagreement

SAFETY_KINDS = BLOCKING_FLAG_KINDS
# Reviews read at a time when a worker scans a whole project for disagreements.
SCAN_CHUNK = 2000


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


class _Severity:
    """How a disputed item ranks in the queue, from its fields in dispute and its safety reasons."""

    fields: list[FieldDisagreement]
    safety: list[str]

    @property
    def max_severity(self) -> float:
        return max((f.severity for f in self.fields), default=0.0)

    @property
    def sort_key(self) -> tuple:
        return (bool(self.safety), self.max_severity, len(self.fields), -self.item_id)

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


@dataclass
class Disagreement(_Severity):
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
    def item_id(self) -> int:
        return self.item.pk

    @property
    def item_type(self) -> str:
        return "seed_task" if self.seed_task is not None else "response"

    @property
    def item_name(self) -> str:
        return f"task {self.item.pk}" if self.seed_task is not None else f"response {self.item.pk}"

    @property
    def settled(self) -> bool:
        """A gold label exists and no review has arrived since it was set."""
        if self.gold is None:
            return False
        linked = {r.pk for r in self.gold.reviews.all()}
        return all(r.pk in linked for r in self.reviews)


@dataclass
class FoundDispute(_Severity):
    """A disputed item as a scan of the whole project finds it: ids and values only, so a worker can
    hold every one of a large project's disputes (curation.services.disagreements.disputed_items_run)."""

    schema_id: int
    seed_task_id: int | None
    response_id: int | None
    review_ids: list[int]
    fields: list[FieldDisagreement]
    safety: list[str]
    gold_version: int | None
    settled: bool

    @property
    def item_id(self) -> int:
        return self.seed_task_id or self.response_id

    @property
    def item_type(self) -> str:
        return "seed_task" if self.seed_task_id else "response"


ItemKey = tuple[str, int]  # ("seed_task" | "response", id)
GroupKey = tuple[str, int, int]  # an item under one rating form: (*item key, schema id)


def _item_key(seed_task_id: int | None, response_id: int | None) -> ItemKey:
    return ("seed_task", seed_task_id) if seed_task_id else ("response", response_id)


def _open_safety_flags(project: Project, seed_task_ids: list[int] | None) -> dict[ItemKey, set[str]]:
    """Per flagged item: the kinds of its open safety flags."""
    flags = ItemFlag.objects.filter(project=project, kind__in=SAFETY_KINDS, cleared_at__isnull=True)
    if seed_task_ids is not None:
        flags = flags.filter(seed_task_id__in=seed_task_ids)
    found: dict[ItemKey, set[str]] = defaultdict(set)
    for seed_task_id, response_id, kind in flags.values_list("seed_task_id", "response_id", "kind"):
        found[_item_key(seed_task_id, response_id)].add(kind)
    return found


def _gold_links(
    project: Project, seed_task_ids: list[int] | None
) -> tuple[dict[GroupKey, tuple[int, int]], dict[int, set[int]]]:
    """The project's gold labels by item and form, as (id, version), and the reviews each settled."""
    labels = GoldLabel.objects.filter(project=project)
    if seed_task_ids is not None:
        labels = labels.filter(seed_task_id__in=seed_task_ids)
    golds = {
        (*_item_key(seed_task_id, response_id), schema_id): (pk, version)
        for pk, seed_task_id, response_id, schema_id, version in labels.values_list(
            "pk", "seed_task_id", "response_id", "schema_id", "version"
        )
    }
    links: dict[int, set[int]] = defaultdict(set)
    through = GoldLabel.reviews.through.objects.filter(goldlabel__in=labels)
    for gold_id, review_id in through.values_list("goldlabel_id", "review_id").iterator(chunk_size=SCAN_CHUNK):
        links[gold_id].add(review_id)
    return golds, links


def disagreement_scan(
    *, project: Project, rules: AdjudicationSettings | None = None, seed_task_ids: list[int] | None = None
) -> Iterator[FoundDispute]:
    """Every item of the project (or only the seed tasks `seed_task_ids`) whose current reviews disagree
    under the project's rule, or that carries an open safety flag, settled or not, in the order of
    their (seed task, response, form). Reads the reviews a chunk at a time, grouped by item in SQL, so
    a project of any size is scanned in bounded memory: for workers, not requests."""
    rules = rules or adjudication_settings_of(project=project)
    schemas = {s.pk: s for s in RatingSchema.objects.filter(project=project)}
    flags = _open_safety_flags(project, seed_task_ids)
    golds, links = _gold_links(project, seed_task_ids)
    reviews = Review.objects.filter(project=project, is_current=True)
    if seed_task_ids is not None:
        reviews = reviews.filter(seed_task_id__in=seed_task_ids)
    rows = (
        reviews.order_by("seed_task_id", "response_id", "schema_id", "id")
        .values_list("seed_task_id", "response_id", "schema_id", "id", "answers")
        .iterator(chunk_size=SCAN_CHUNK)
    )
    rated: set[ItemKey] = set()
    for (seed_task_id, response_id, schema_id), group in itertools.groupby(rows, key=lambda row: row[:3]):
        members = list(group)
        item = _item_key(seed_task_id, response_id)
        if item in flags:
            rated.add(item)
        schema = schemas.get(schema_id) or RatingSchema.objects.get(pk=schema_id)
        found = _dispute(
            schema,
            seed_task_id,
            response_id,
            members,
            flags.get(item, set()),
            golds.get((*item, schema_id)),
            links,
            rules,
        )
        if found is not None:
            yield found
    for item in sorted(set(flags) - rated):
        schema = project.seed_schema if item[0] == "seed_task" else project.response_schema
        if schema is not None:
            seed_task_id, response_id = (item[1], None) if item[0] == "seed_task" else (None, item[1])
            found = _dispute(
                schema, seed_task_id, response_id, [], flags[item], golds.get((*item, schema.pk)), links, rules
            )
            if found is not None:
                yield found


def _dispute(
    schema: RatingSchema,
    seed_task_id: int | None,
    response_id: int | None,
    members: list[tuple],
    flag_kinds: set[str],
    gold: tuple[int, int] | None,
    links: dict[int, set[int]],
    rules: AdjudicationSettings,
) -> FoundDispute | None:
    """One item's reviews (rows of seed task, response, form, id, answers) judged under the rule."""
    answers = [row[4] for row in members]
    review_ids = [row[3] for row in members]
    fields = fields_in_dispute(schema=schema, answers=answers, rules=rules)
    safety = _safety_reasons(flag_kinds, answers)
    if not (fields or safety):
        return None
    return FoundDispute(
        schema_id=schema.pk,
        seed_task_id=seed_task_id,
        response_id=response_id,
        review_ids=review_ids,
        fields=fields,
        safety=safety,
        gold_version=gold[1] if gold else None,
        settled=gold is not None and all(pk in links[gold[0]] for pk in review_ids),
    )


def disagreements_detect(
    *,
    project: Project,
    include_settled: bool = False,
    rules: AdjudicationSettings | None = None,
    seed_task_ids: list[int] | None = None,
) -> list[Disagreement]:
    """Items whose current reviews disagree under the project's rule, or that carry a safety flag,
    most severe first: safety flags, then the widest disagreement, then the most fields in dispute;
    with their reviews, items and gold labels loaded. Reads the whole project (or the seed tasks
    `seed_task_ids`): the queue pages read what a worker found instead (disputed_items_of)."""
    found = [
        d
        for d in disagreement_scan(project=project, rules=rules, seed_task_ids=seed_task_ids)
        if include_settled or not d.settled
    ]
    found.sort(key=lambda d: d.sort_key, reverse=True)
    reviews = Review.objects.select_related("reviewer").in_bulk([pk for d in found for pk in d.review_ids])
    schemas = RatingSchema.objects.in_bulk({d.schema_id for d in found})
    tasks = SeedTask.objects.in_bulk({d.seed_task_id for d in found if d.seed_task_id})
    responses = ModelResponse.objects.select_related("seed_task", "prompt").in_bulk(
        {d.response_id for d in found if d.response_id}
    )
    golds = {
        (g.seed_task_id, g.response_id, g.schema_id): g
        for g in GoldLabel.objects.filter(project=project)
        .filter(Q(seed_task_id__in=list(tasks)) | Q(response_id__in=list(responses)))
        .prefetch_related("reviews")
        .select_related("adjudicated_by")
    }
    return [
        Disagreement(
            schema=schemas[d.schema_id],
            seed_task=tasks.get(d.seed_task_id),
            response=responses.get(d.response_id),
            reviews=[reviews[pk] for pk in d.review_ids],
            fields=d.fields,
            safety=d.safety,
            gold=golds.get((d.seed_task_id, d.response_id, d.schema_id)),
        )
        for d in found
    ]


# --- the item page ----------------------------------------------------------------------------------


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
