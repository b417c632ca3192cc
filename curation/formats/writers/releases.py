"""One class per release format. Each streams its lines from the querysets of an ExportScope.

Rows are built with their keys in a fixed order and read in primary-key order, so the same data
always gives the same bytes. Nothing here collects the dataset in memory: every loop runs over
`.iterator(chunk_size=...)`.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db.models import QuerySet

from curation.formats.writers.encoding import csv_line, jsonl_line, pseudonym
from curation.formats.writers.round_pairs import round_pair_rows
from curation.models import EvaluationRound, RatingSchema, Review, RoundItem, SeedTask

SCORE_KINDS = ("ordinal_scale", "number")


TASK_FIELDS = (
    "id",
    "instruction",
    "input",
    "reference_output",
    "topic__name",
    "topic_raw",
    "view__name",
    "view_raw",
    "task_type__name",
    "task_type_raw",
    "difficulty",
    "version",
    "origin_file",
)


class TaskReviews(NamedTuple):
    """A seed task's current reviews, summarised: its per-item agreement, who reviewed it and with which forms."""

    task_id: int
    agreement: float | None
    reviewer_ids: tuple[int, ...]
    schema_ids: frozenset[int] = frozenset()
    n_reviewers: int = 0


@dataclass
class TaskStats:
    """Counts for the dataset card, gathered while the tasks stream by: a few counters, never the rows."""

    tasks: int = 0
    without_output: int = 0
    topics: Counter = field(default_factory=Counter)
    views: Counter = field(default_factory=Counter)
    types: Counter = field(default_factory=Counter)
    difficulty: Counter = field(default_factory=Counter)
    reviewers_per_task: Counter = field(default_factory=Counter)
    sources: Counter = field(default_factory=Counter)
    # Preference pairs written, by where they came from: "correction", or a round's id.
    pair_sources: Counter = field(default_factory=Counter)
    reviews: int = 0
    reviewer_ids: set[int] = field(default_factory=set)
    # The rating forms of the reviews of every task streamed, those a minimum agreement dropped included.
    schema_ids: set[int] = field(default_factory=set)

    def add(self, task: dict[str, Any]) -> None:
        self.tasks += 1
        self.without_output += not task["reference_output"]
        # A term's name, else the spelling the task carries (_term), inline: this runs once per task.
        self.topics[task["topic__name"] or task["topic_raw"] or "(none)"] += 1
        self.views[task["view__name"] or task["view_raw"] or "(none)"] += 1
        self.types[task["task_type__name"] or task["task_type_raw"] or "(none)"] += 1
        self.difficulty[str(task["difficulty"]) if task["difficulty"] else "(none)"] += 1
        self.reviewers_per_task[task["n_reviewers"]] += 1
        self.sources[task["origin_file"] or "written in Concord"] += 1
        self.reviews += len(task["reviewer_ids"])
        self.reviewer_ids.update(task["reviewer_ids"])


@dataclass
class ExportScope:
    """What a release reads, already filtered; read through curation.selectors.releases inside the build's snapshot.

    `tasks` is annotated with `n_reviewers` (for a minimum); the rows take it from `agreements()`, which
    counts it as the annotation does without a subquery per task. `reviews` are current reviews with their
    item joined.
    `agreements()` streams a TaskReviews in task id order for each task with current reviews
    (agreement None with fewer than two), of `tasks` and possibly of tasks the release gate keeps out of
    `tasks` (the merge skips those); `task_rows` merges it with the tasks and drops those under
    `min_agreement` when that is set. `round_items` are the evaluation-round items with a clear
    majority on `round_axis` (curation.selectors.round_results.round_majority_items), for preference pairs.
    `stats` collects the card's counts from every task streamed through `task_rows`.

    `schemas` are the rating forms of the reviews behind the rows, read up front; for the task formats
    they are learned as the tasks stream (`schemas_of` reads them by id) and `rating_schemas()` gives
    them once `task_rows` is spent. `task_total`, when the summary counted it, is how many tasks `tasks` holds.
    """

    tasks: QuerySet[SeedTask]
    reviews: QuerySet[Review]
    schemas: list[RatingSchema]
    salt: str
    system_prompt: str = ""
    agreements: Callable[[], Iterator[TaskReviews]] = field(default=lambda: iter(()))
    min_agreement: float | None = None
    round_items: QuerySet[RoundItem] | None = None
    round_axis: str = "overall"
    rounds: list[EvaluationRound] = field(default_factory=list)
    chunk_size: int = 2000
    stats: TaskStats = field(default_factory=TaskStats)
    review_count: int = 0
    reviewer_count: int = 0
    # Tasks the filters selected but left out for having no reference output (alpaca and chat, by default).
    left_out_without_output: int = 0
    # Tasks the filters selected but the release gate kept out (PHI not cleared, or an open flag).
    held_back: int = 0
    task_total: int | None = None
    schemas_of: Callable[[Iterable[int]], list[RatingSchema]] | None = None

    def reviewer(self, user_id: int) -> str:
        return pseudonym(salt=self.salt, user_id=user_id)

    def _passes(self, agreement: float | None) -> bool:
        return self.min_agreement is None or (agreement is not None and agreement >= self.min_agreement)

    def _merged(self, tasks: Iterable[dict[str, Any]], schema_ids: set[int] | None = None) -> Iterator[dict[str, Any]]:
        """`tasks` (dicts with an `id`, in id order) with their `agreement`, `reviewer_ids`, `schema_ids` and
        `n_reviewers`, those under `min_agreement` dropped; the agreements are read in the same order and
        merged. The forms of every task's reviews, dropped or not, are added to `schema_ids` if given."""
        agreements = self.agreements()
        pending: TaskReviews | None = next(agreements, None)
        passes = None if self.min_agreement is None else self._passes
        for task in tasks:
            task_id = task["id"]
            while pending is not None and pending.task_id < task_id:
                pending = next(agreements, None)
            if pending is not None and pending.task_id == task_id:
                task["agreement"], task["reviewer_ids"], task["schema_ids"], task["n_reviewers"] = pending[1:]
                if schema_ids is not None:
                    schema_ids.update(pending.schema_ids)
            else:
                task["agreement"], task["reviewer_ids"], task["schema_ids"], task["n_reviewers"] = UNREVIEWED
            if passes is None or passes(task["agreement"]):
                yield task

    def task_rows(self) -> Iterator[dict[str, Any]]:
        """The tasks as plain dicts with their `agreement` and `reviewer_ids`, both streams read in task
        id order and merged.

        Building model instances would cost more than writing the line.
        """
        stats = self.stats
        rows = self.tasks.values(*TASK_FIELDS).iterator(chunk_size=self.chunk_size)
        for task in self._merged(rows, stats.schema_ids):
            stats.add(task)
            yield task

    def task_count(self) -> int:
        """How many tasks `task_rows` yields: counted with the summary, a COUNT, or one pass over the
        tasks' ids and their agreements under a minimum."""
        if self.min_agreement is not None:
            ids = (
                {"id": task_id}
                for task_id in self.tasks.values_list("id", flat=True).iterator(chunk_size=self.chunk_size)
            )
            return sum(1 for _ in self._merged(ids))
        if self.task_total is not None:
            return self.task_total
        return self.tasks.count()

    def rating_schemas(self) -> list[RatingSchema]:
        """The rating forms of the reviews behind the rows (for the task formats, once `task_rows` is spent)."""
        if self.schemas_of is None:
            return self.schemas
        return self.schemas_of(self.stats.schema_ids)


# What `_merged` gives a task without a current review: no agreement, no reviewer, no form.
UNREVIEWED = (None, (), frozenset(), 0)


def _term(name: str | None, raw: str) -> str | None:
    return name or raw or None


def user_prompt(instruction: str, input: str) -> str:
    """The text a model is asked: the instruction, then the input (if any) after a blank line."""
    return f"{instruction}\n\n{input}" if input else instruction


def task_metadata(task: dict[str, Any], scope: ExportScope) -> dict[str, Any]:
    return {
        "task_id": task["id"],
        # _term inline: this runs once per row.
        "topic": task["topic__name"] or task["topic_raw"] or None,
        "view": task["view__name"] or task["view_raw"] or None,
        "type": task["task_type__name"] or task["task_type_raw"] or None,
        "difficulty": task["difficulty"],
        "reviewers": task["n_reviewers"],
        "agreement": task["agreement"],
        "revision": task["version"],
    }


class ReleaseWriter:
    extension = "jsonl"
    content_type = "application/x-ndjson; charset=utf-8"
    # Formats that stream every task in scope fill scope.stats themselves; the others get a separate pass.
    streams_tasks = False

    def count(self, scope: ExportScope) -> int:
        raise NotImplementedError

    def lines(self, scope: ExportScope) -> Iterator[bytes]:
        raise NotImplementedError


class AlpacaWriter(ReleaseWriter):
    streams_tasks = True

    def count(self, scope: ExportScope) -> int:
        return scope.task_count()

    def lines(self, scope: ExportScope) -> Iterator[bytes]:
        for task in scope.task_rows():
            yield jsonl_line(
                {
                    "instruction": task["instruction"],
                    "input": task["input"],
                    "output": task["reference_output"],
                    "metadata": task_metadata(task, scope),
                }
            )


class ChatWriter(AlpacaWriter):
    """The `messages` shape TRL's SFTTrainer and the common fine-tuning APIs accept."""

    def lines(self, scope: ExportScope) -> Iterator[bytes]:
        system = [{"role": "system", "content": scope.system_prompt}] if scope.system_prompt else []
        for task in scope.task_rows():
            yield jsonl_line(
                {
                    "messages": [
                        *system,
                        {"role": "user", "content": user_prompt(task["instruction"], task["input"])},
                        {"role": "assistant", "content": task["reference_output"]},
                    ],
                    "metadata": task_metadata(task, scope),
                }
            )


def _review_item(review: Review) -> dict[str, Any]:
    response = review.response
    if response is None:
        return {"item_type": "seed_task", "task_id": review.seed_task_id, "prompt_id": None, "response_id": None}
    return {
        "item_type": "response",
        "task_id": response.seed_task_id,
        "prompt_id": response.prompt_id,
        "response_id": response.pk,
        "model_name": response.model_name,
    }


class PreferenceWriter(ReleaseWriter):
    """Preference pairs: first clinicians' corrections (in review id order), then evaluation-round
    majorities (in round, item order). Each row's metadata names its `source`.

    A correction is preferred over the text it corrected. A correction that leaves the text as it
    was (ignoring surrounding whitespace) is a tie and is never exported; nor is a correction of an
    empty reference output, which has nothing to reject. A round item gives a pair when strictly more
    than half of its judgments on the release's axis picked the same model; ties never do.
    """

    def _corrections(self, scope: ExportScope) -> QuerySet[Review]:
        return scope.reviews.exclude(corrected_text="")

    def count(self, scope: ExportScope) -> int:
        rounds = scope.round_items.count() if scope.round_items is not None else 0
        return self._corrections(scope).count() + rounds

    def lines(self, scope: ExportScope) -> Iterator[bytes]:
        for review in self._corrections(scope).iterator(chunk_size=scope.chunk_size):
            if review.response is not None:
                item = review.response.seed_task or review.response.prompt
                original = review.response.text
            else:
                item = review.seed_task
                original = review.seed_task.reference_output
            chosen = review.corrected_text
            if not original.strip() or chosen.strip() == original.strip():
                continue
            scope.stats.pair_sources["correction"] += 1
            yield jsonl_line(
                {
                    "prompt": user_prompt(item.instruction, item.input),
                    "chosen": chosen,
                    "rejected": original,
                    "metadata": {
                        "source": "correction",
                        **_review_item(review),
                        "reviewer": scope.reviewer(review.reviewer_id),
                    },
                }
            )
        if scope.round_items is None:
            return
        for pair in round_pair_rows(items=scope.round_items, axis=scope.round_axis, chunk_size=scope.chunk_size):
            scope.stats.pair_sources[pair["round_id"]] += 1
            yield jsonl_line(
                {
                    "prompt": user_prompt(pair["prompt"], pair["input"]),
                    "chosen": pair["chosen"],
                    "rejected": pair["rejected"],
                    "metadata": {
                        "source": "round",
                        "round_id": pair["round_id"],
                        "round_item_id": pair["item_id"],
                        "prompt_id": pair["prompt_id"],
                        "chosen_response_id": pair["chosen_response_id"],
                        "rejected_response_id": pair["rejected_response_id"],
                        "chosen_model": pair["chosen_model"],
                        "rejected_model": pair["rejected_model"],
                        "axis": pair["axis"],
                        "votes_for": pair["votes_for_chosen"],
                        "votes_against": pair["votes_against_chosen"],
                        "judgments": pair["votes"],
                    },
                }
            )


def _review_long_rows(review: Review, scope: ExportScope) -> Iterator[dict[str, Any]]:
    """One row per field of the review's form (null when unanswered), then one for a correction if any."""
    base = {
        **_review_item(review),
        "reviewer": scope.reviewer(review.reviewer_id),
        "schema": review.schema.name,
        "schema_version": review.schema.version,
        "review_version": review.version,
        "submitted_at": review.submitted_at.isoformat(),
    }
    base.setdefault("model_name", None)
    for schema_field in review.schema.fields:
        yield {**base, "field": schema_field["key"], "value": review.answers.get(schema_field["key"])}
    if review.corrected_text:
        yield {**base, "field": "corrected_text", "value": review.corrected_text}


REVIEW_COLUMNS = [
    "item_type",
    "task_id",
    "prompt_id",
    "response_id",
    "model_name",
    "reviewer",
    "schema",
    "schema_version",
    "review_version",
    "submitted_at",
]


class ReviewsWriter(ReleaseWriter):
    def count(self, scope: ExportScope) -> int:
        return scope.reviews.count()

    def rows(self, scope: ExportScope) -> Iterator[dict[str, Any]]:
        for review in scope.reviews.iterator(chunk_size=scope.chunk_size):
            yield from _review_long_rows(review, scope)

    def lines(self, scope: ExportScope) -> Iterator[bytes]:
        for row in self.rows(scope):
            yield jsonl_line({key: row[key] for key in [*REVIEW_COLUMNS, "field", "value"]})


def _csv_value(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value


class ReviewsCsvWriter(ReviewsWriter):
    extension = "csv"
    content_type = "text/csv; charset=utf-8"

    def header(self, scope: ExportScope) -> bytes:
        return csv_line([*REVIEW_COLUMNS, "field", "value"])

    def lines(self, scope: ExportScope) -> Iterator[bytes]:
        yield self.header(scope)
        for row in self.rows(scope):
            yield csv_line([*(row[key] for key in REVIEW_COLUMNS), row["field"], _csv_value(row["value"])])


class ScoresCsvWriter(ReviewsWriter):
    """One row per review with a column per numeric field (scales and numbers) of the forms in scope."""

    extension = "csv"
    content_type = "text/csv; charset=utf-8"

    def score_keys(self, scope: ExportScope) -> list[str]:
        keys: list[str] = []
        for schema in scope.schemas:
            for schema_field in schema.fields:
                if schema_field["kind"] in SCORE_KINDS and schema_field["key"] not in keys:
                    keys.append(schema_field["key"])
        return keys

    def lines(self, scope: ExportScope) -> Iterator[bytes]:
        keys = self.score_keys(scope)
        yield csv_line([*REVIEW_COLUMNS, *keys])
        for review in scope.reviews.iterator(chunk_size=scope.chunk_size):
            item = {"model_name": None, **_review_item(review)}
            base = {
                **item,
                "reviewer": scope.reviewer(review.reviewer_id),
                "schema": review.schema.name,
                "schema_version": review.schema.version,
                "review_version": review.version,
                "submitted_at": review.submitted_at.isoformat(),
            }
            yield csv_line([*(base[key] for key in REVIEW_COLUMNS), *(review.answers.get(key) for key in keys)])


WRITERS: dict[str, ReleaseWriter] = {
    "alpaca": AlpacaWriter(),
    "chat": ChatWriter(),
    "preference": PreferenceWriter(),
    "reviews": ReviewsWriter(),
    "reviews_csv": ReviewsCsvWriter(),
    "scores_csv": ScoresCsvWriter(),
}
