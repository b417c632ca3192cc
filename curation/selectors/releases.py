"""Reads for releases: the listing, the choices of the release form, and the rows a release takes.
What a definition would give before it is built (the form's live count) is curation.selectors.release_counts.

What a release takes (curation.services.releases builds it inside one snapshot):
- seed tasks of the chosen statuses, topics, views, types, difficulties and creation dates, reviewed
  by at least `min_reviewers` reviewers (`release_tasks`);
- the current reviews of those tasks and of model responses to them, and of responses to the
  project's test prompts when no topic, view or type is chosen (`release_reviews`);
- for preference releases, the pairwise round items where strictly more than half of the judgments
  on `round_axis` picked the same model, with at least two judgments (or `min_reviewers`, if higher),
  from the rounds chosen or by default every frozen (judging open: the judgments so far) or closed
  pairwise round (`release_rounds`, `release_round_items`). Round prompts have no topic, view or
  type, so those filters leave round pairs out; the difficulty and date filters apply to the prompt.
Anything carrying an uncleared unsafe or PHI flag is left out.

Per-item agreement (`metadata.agreement` in alpaca and chat rows, and the `min_agreement` filter) is
curation.stats.item_agreement over a task's current reviews; `task_reviews` streams it for every
task in one query, in task order, so it costs the same whatever the size.
"""

import json
from collections.abc import Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, TextField, Value
from django.db.models.functions import Cast, Coalesce

from curation.formats.writers.releases import ExportScope, TaskReviews
from curation.models import (
    BLOCKING_FLAG_KINDS,
    EvaluationRound,
    ItemFlag,
    ModelResponse,
    Project,
    RatingSchema,
    Release,
    ReleaseFormat,
    Review,
    RoundItem,
    RoundMode,
    RoundStatus,
    SeedTask,
    TaskStatus,
    VocabularyKind,
    VocabularyTerm,
    VocabularyUse,
)
from curation.selectors.phi import phi_release_gate
from curation.selectors.round_results import round_majority_items
from curation.stats.item_agreement import item_agreement, scored_keys

if TYPE_CHECKING:  # the definition reads through these selectors; only its type is needed here
    from curation.releases_definition import ReleaseFilters

ROUND_STATUSES = (RoundStatus.FROZEN, RoundStatus.CLOSED)
# The filters that name a task's terms: (the vocabulary term, the text the import gave when no term matched).
TERM_FIELDS = {
    "topics": ("topic_id", "topic_raw"),
    "views": ("view_id", "view_raw"),
    "types": ("task_type_id", "task_type_raw"),
}
TERM_KINDS = {"topics": VocabularyKind.TOPIC, "views": VocabularyKind.VIEW, "types": VocabularyKind.TASK_TYPE}


def releases_of(*, project: Project) -> QuerySet[Release]:
    """A project's releases, newest first, without the card text (list views never show it)."""
    return (
        Release.objects.filter(project=project)
        .select_related("created_by", "project")
        .defer("card", "salt")
        .order_by("-created_at", "-id")
    )


# --- The release form's choices and the definition's checks ---


def _uses(*, project: Project, name: str) -> QuerySet[VocabularyUse]:
    """The project's kept counts per spelling and term of the kind the filter `name` names, in use."""
    return VocabularyUse.objects.filter(project=project, kind=TERM_KINDS[name], tasks__gt=0)


def release_term_choices(*, project: Project, name: str) -> list[str]:
    """The topic, view or type names (`name` is the filter) the project's tasks use, sorted: a term's
    name, or the spelling a task carries with no term. Read from the kept counts (VocabularyUse), a row
    per spelling: reading the names off every task took 0.2-0.3 s per filter at a million tasks."""
    return list(
        _uses(project=project, name=name)
        .annotate(label=Coalesce(F("term__name"), F("raw")))
        .exclude(label="")
        .order_by("label")
        .values_list("label", flat=True)
        .distinct()
    )


def release_round_choices(*, project: Project) -> QuerySet[EvaluationRound]:
    """The project's pairwise rounds, in id order, for the form to offer."""
    return EvaluationRound.objects.filter(project=project, mode=RoundMode.PAIRWISE).order_by("pk")


def release_known_terms(*, project: Project, name: str, values: Iterable[str]) -> set[str]:
    """Which of `values` some task of the project has as its topic, view or type (`name` is the filter)."""
    uses = _uses(project=project, name=name)
    known = set(uses.filter(term__name__in=values).values_list("term__name", flat=True))
    return known | set(uses.filter(raw__in=values).values_list("raw", flat=True))


def rounds_by_id_of(*, project: Project, ids: Iterable[int]) -> dict[int, EvaluationRound]:
    """The project's rounds among `ids`, whatever their mode or state, by id."""
    return {r.pk: r for r in EvaluationRound.objects.filter(project=project, pk__in=list(ids)).select_related("schema")}


def round_gives_pairs(evaluation_round: EvaluationRound) -> bool:
    """A round a preference release may read: pairwise, and frozen or closed."""
    return evaluation_round.is_pairwise and evaluation_round.status in ROUND_STATUSES


def release_rounds(*, project: Project, ids: Iterable[int]) -> list[EvaluationRound]:
    """The rounds a preference release reads pairs from, in id order: those among `ids`, or by default
    every frozen or closed pairwise round of the project."""
    rounds = EvaluationRound.objects.filter(
        project=project, mode=RoundMode.PAIRWISE, status__in=ROUND_STATUSES
    ).select_related("schema")
    ids = list(ids)
    if ids:
        rounds = rounds.filter(pk__in=ids)
    return list(rounds.order_by("pk"))


# --- The rows a release takes ---


def _reviewer_count(item_field: str) -> Subquery:
    reviews = (
        Review.objects.filter(**{item_field: OuterRef("pk")}, is_current=True)
        .order_by()
        .values(item_field)
        .annotate(n=Count("reviewer", distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(reviews, output_field=IntegerField()), Value(0))


def release_gate(item_field: str, outer: str = "pk") -> list[Exists]:
    """What a seed task or model response (`item_field`, at `outer`) must pass to be released, as
    conditions for `.filter(*conditions)`: no uncleared unsafe or PHI flag, and the PHI gate
    (curation.selectors.phi.phi_release_gate: scanned as it is now, no open finding)."""
    flags = ItemFlag.objects.filter(**{item_field: OuterRef(outer)}, kind__in=BLOCKING_FLAG_KINDS, cleared_at=None)
    return [~Exists(flags), *phi_release_gate(item_field, outer)]


def _difficulty_and_dates(items: QuerySet, filters: "ReleaseFilters", prefix: str = "") -> QuerySet:
    """`items` narrowed by the difficulty and creation-date filters, on the model `prefix` leads to."""
    if filters.difficulties:
        items = items.filter(**{f"{prefix}difficulty__in": filters.difficulties})
    if filters.created_from:
        items = items.filter(**{f"{prefix}created_at__date__gte": filters.created_from})
    if filters.created_to:
        items = items.filter(**{f"{prefix}created_at__date__lte": filters.created_to})
    return items


def _names_any_term(filters: "ReleaseFilters") -> bool:
    return any(getattr(filters, name) for name in TERM_FIELDS)


def _release_candidates(*, project: Project, filters: "ReleaseFilters") -> QuerySet[SeedTask]:
    """The seed tasks the filters select, before the release gate.

    An accepted task is taken only at the version a curator accepted: an edit since is unreviewed (and
    the edit returned the task to review, curation.services.seed_tasks.seed_task_edit).
    """
    tasks = SeedTask.objects.filter(project=project, status__in=filters.statuses).filter(
        ~Q(status=TaskStatus.ACCEPTED) | Q(accepted_version=F("version"))
    )
    for name, (term_field, raw_field) in TERM_FIELDS.items():
        values = getattr(filters, name)
        if values:
            # The terms' ids are read first (one small query) so that both tests are on the task's own
            # columns, which the (project, term, raw) indexes answer: a test on the joined term's name
            # could only be made on every task of the statuses.
            term_ids = list(VocabularyTerm.objects.filter(name__in=values).values_list("pk", flat=True))
            tasks = tasks.filter(Q(**{f"{term_field}__in": term_ids}) | Q(**{f"{raw_field}__in": values}))
    return _difficulty_and_dates(tasks, filters)


def release_tasks(*, project: Project, filters: "ReleaseFilters") -> QuerySet[SeedTask]:
    """The seed tasks a release with these filters includes, annotated with `n_reviewers`, in id order:
    those the filters select that pass the release gate (release_gate)."""
    tasks = _release_candidates(project=project, filters=filters)
    tasks = tasks.filter(*release_gate("seed_task")).annotate(n_reviewers=_reviewer_count("seed_task"))
    if filters.min_reviewers:
        tasks = tasks.filter(n_reviewers__gte=filters.min_reviewers)
    return tasks.select_related("topic", "view", "task_type").order_by("id")


def release_held_back(*, project: Project, filters: "ReleaseFilters") -> int:
    """How many of the seed tasks the filters select the release gate keeps out: not scanned for PHI as
    they are now, with an open PHI finding, or with an open unsafe or PHI flag. Two counts over the
    selected tasks: a release build and the command line say it, the live row count does not."""
    candidates = _release_candidates(project=project, filters=filters).order_by()
    return candidates.count() - candidates.filter(*release_gate("seed_task")).count()


def release_reviews(*, project: Project, filters: "ReleaseFilters", tasks: QuerySet[SeedTask]) -> QuerySet[Review]:
    """Current reviews of the items in scope: reviews of the tasks, and of model responses to those tasks.

    Responses to test prompts (which have no curation status, topic or view) are in scope when no
    topic, view or type filter is set, their prompt passes the difficulty and date filters, and
    enough reviewers reviewed the response. Flagged responses are left out like flagged tasks.

    The reviews are found from the items, one part per kind of item (the tasks, their responses,
    the prompts' responses), and the parts joined with UNION ALL (a review is of one item): each part
    is a join from the chosen items through an index, where one OR of two IN tests would read every
    review of the project. `tasks` are the release's tasks (`release_tasks`), built once by the caller.
    """
    task_ids = tasks.values("pk")
    current = Review.objects.filter(project=project, is_current=True).order_by()
    task_responses = ModelResponse.objects.filter(seed_task__in=task_ids).filter(*release_gate("response"))
    parts = [current.filter(seed_task__in=task_ids), current.filter(response__in=task_responses.values("pk"))]
    if not _names_any_term(filters):
        prompt_responses = _difficulty_and_dates(
            ModelResponse.objects.filter(prompt__project=project), filters, prefix="prompt__"
        )
        if filters.min_reviewers:
            prompt_responses = prompt_responses.annotate(n_reviewers=_reviewer_count("response")).filter(
                n_reviewers__gte=filters.min_reviewers
            )
        prompt_responses = prompt_responses.filter(*release_gate("response"))
        parts.append(current.filter(response__in=prompt_responses.values("pk")))
    first, *others = (part.values("pk") for part in parts)
    reviews = Review.objects.filter(pk__in=first.union(*others, all=True))
    return reviews.select_related(
        "schema", "seed_task", "response", "response__seed_task", "response__prompt"
    ).order_by("id")


def release_round_items(*, filters: "ReleaseFilters", rounds: list[EvaluationRound]) -> QuerySet[RoundItem]:
    """The round items with a clear majority that a preference release exports (see the module docstring)."""
    items = round_majority_items(rounds=rounds, axis=filters.round_axis, min_judgments=max(2, filters.min_reviewers))
    if _names_any_term(filters):
        return items.none()
    items = _difficulty_and_dates(items, filters, prefix="prompt__")
    for side in ("response_a_id", "response_b_id"):
        items = items.filter(*release_gate("response", side))
    return items


class _ScoredKeys(dict):
    """The scored keys of each rating form by id (`scored_keys`), the form read the first time a review made
    with it streams by: one small query per form, whatever the number of reviews."""

    def __missing__(self, schema_id: int) -> list[str]:
        keys = self[schema_id] = scored_keys(RatingSchema.objects.get(pk=schema_id).fields)
        return keys

    def get(self, schema_id: int, default: Any = None) -> list[str]:  # item_agreement reads the keys with .get
        return self[schema_id]


def task_reviews(*, reviews: QuerySet[Review], project_id: int, chunk_size: int) -> Iterator[TaskReviews]:
    """The current reviews of every task among `reviews` that has any, summarised, in task id order.

    The agreement, reviewers and forms are those of the reviews made in project `project_id` (the task's
    own); `n_reviewers` counts the reviewers of them all, as `_reviewer_count` does, so that the rows
    need not run that subquery once per task. One query, streamed: the reviews of one task at a time are
    held, never the project's.
    """
    keys = _ScoredKeys()
    # The answers are read as JSON text and decoded here: through the JSONField's converter the same
    # decoding cost several times as much (0.8 s instead of 0.2 s of CPU for 104,000 reviews).
    rows = (
        reviews.filter(seed_task__isnull=False)
        .order_by("seed_task_id", "id")
        .values_list("seed_task_id", "project_id", "schema_id", "reviewer_id", Cast("answers", TextField()))
        .iterator(chunk_size=chunk_size)
    )
    decode = json.JSONDecoder().decode
    current: int | None = None
    group: list[tuple[int, dict[str, Any]]] = []
    reviewers: list[int] = []
    everyone: set[int] = set()
    schema_ids: set[int] = set()
    for task_id, review_project_id, schema_id, reviewer_id, answers in rows:
        if task_id != current:
            if current is not None:
                yield TaskReviews(
                    current, item_agreement(group, keys), tuple(reviewers), frozenset(schema_ids), len(everyone)
                )
            current, group, reviewers, everyone, schema_ids = task_id, [], [], set(), set()
        everyone.add(reviewer_id)
        if review_project_id == project_id:
            group.append((schema_id, (decode(answers) if answers else None) or {}))
            reviewers.append(reviewer_id)
            schema_ids.add(schema_id)
    if current is not None:
        yield TaskReviews(current, item_agreement(group, keys), tuple(reviewers), frozenset(schema_ids), len(everyone))


def rating_schemas(ids: Iterable[int]) -> list[RatingSchema]:
    """The rating forms with these ids, in the order a release's manifest lists them."""
    return list(RatingSchema.objects.filter(pk__in=list(ids)).order_by("name", "version", "id"))


def _task_counts(*, project: Project, filters: "ReleaseFilters", without_output: bool) -> tuple[int, int, int]:
    """(held back, left out for want of an output, taken): of the tasks the filters select, how many the
    release gate keeps out (as release_held_back counts them); of those `release_tasks` gives, how many
    have no reference output (counted only `without_output`, when the format leaves them out); and how many
    tasks the release takes. Two queries, the gate read once, where a count each read it three times."""
    candidates = _release_candidates(project=project, filters=filters).order_by()
    selected = candidates.filter(*release_gate("seed_task"))
    taken = Q(pk__isnull=False)
    if filters.min_reviewers:
        selected = selected.annotate(n_reviewers=_reviewer_count("seed_task"))
        taken = Q(n_reviewers__gte=filters.min_reviewers)
    empty = Q(reference_output="") if without_output else Q(pk__isnull=True)
    counts = selected.aggregate(
        passed=Count("pk"), taken=Count("pk", filter=taken), empty=Count("pk", filter=taken & empty)
    )
    return candidates.count() - counts["passed"], counts["empty"], counts["taken"] - counts["empty"]


def release_scope(
    *,
    format: str,
    salt: str,
    project: Project,
    filters: "ReleaseFilters",
    streams_tasks: bool,
    chunk_size: int,
    summary: bool = True,
) -> ExportScope:
    """The querysets a release of `format` reads, and with `summary` what the card says of them.

    The summary counts the tasks the release gate holds back, those left out for want of an output and
    those taken (one pass of the gate), and for the review formats summarises the reviews in scope (one
    grouped query). For the formats made of tasks (`streams_tasks`: alpaca, chat) the reviews behind the
    rows are the tasks' own, counted as they stream, and so are the forms they were made with
    (ExportScope.rating_schemas): a summary of them here would read the gate once more. Without `summary`
    (to count the rows only) none of this is read.

    The tasks' agreements and reviewer counts are read from the reviews of every task the filters select,
    before the gate: the merge with the tasks skips those the gate keeps out, and the gate is not read a
    third time.
    """
    tasks = release_tasks(project=project, filters=filters)
    reviews = release_reviews(project=project, filters=filters, tasks=tasks)
    drop_empty = streams_tasks and not filters.include_empty_outputs
    held_back = left_out = 0
    total = None
    if summary:
        held_back, left_out, total = _task_counts(project=project, filters=filters, without_output=drop_empty)
    if drop_empty:
        tasks = tasks.exclude(reference_output="")
    groups = []
    if summary and not streams_tasks:
        groups = list(reviews.order_by().values("schema_id", "reviewer_id").annotate(n=Count("id")))
    schemas = rating_schemas({group["schema_id"] for group in groups})
    candidates = _release_candidates(project=project, filters=filters)
    preference = format == ReleaseFormat.PREFERENCE
    rounds = release_rounds(project=project, ids=filters.rounds) if preference else []
    return ExportScope(
        tasks=tasks,
        reviews=reviews,
        schemas=schemas,
        salt=salt,
        system_prompt=filters.system_prompt,
        agreements=partial(
            task_reviews,
            reviews=Review.objects.filter(is_current=True, seed_task__in=candidates.values("pk")),
            project_id=project.pk,
            chunk_size=chunk_size,
        ),
        min_agreement=filters.min_agreement,
        round_items=release_round_items(filters=filters, rounds=rounds) if rounds else None,
        round_axis=filters.round_axis,
        rounds=rounds,
        chunk_size=chunk_size,
        review_count=sum(group["n"] for group in groups),
        reviewer_count=len({group["reviewer_id"] for group in groups}),
        left_out_without_output=left_out,
        held_back=held_back,
        task_total=total,
        schemas_of=rating_schemas if streams_tasks else None,
    )
