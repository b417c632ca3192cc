"""Dataset releases: define one, build it from one consistent snapshot, publish it atomically, retry it.

A release's files live in MEDIA_ROOT/releases/<id>/ (`data.<ext>` and `README.md`, the dataset
card). They are written into a hidden `.release-<id>-<random>.part` directory and renamed into place
only when complete, so a build that dies half-way leaves nothing that looks like a release.

Per-item agreement (`metadata.agreement` in alpaca and chat rows, and the `min_agreement` filter):
for a seed task with two or more current reviews, the mean over its form's scored fields (scales,
numbers, single and multiple choices; not free text or rubrics) of the share of reviewer pairs
whose answers agree exactly (a multiple choice as a set). Only reviewers who answered a field count
for it; fields fewer than two answered are skipped. It is null with fewer than two reviews (or no
field answered twice) and rounded to 4 places. It is computed in one streamed pass over the
reviews in task order, merged with the task stream, so it costs one query whatever the size.

Preference releases hold clinicians' corrections and, from evaluation rounds, the pairwise items
where strictly more than half of the judgments on one axis (`round_axis`, default "overall") picked
the same model, with at least two judgments (or `min_reviewers`, if higher). `rounds` selects the
rounds by id; by default every pairwise round of the project that is frozen (judging open: the
judgments submitted so far) or closed. Round prompts have no topic, view or type, so those filters
leave round pairs out; the difficulty and date filters apply to the prompt. A pair whose chosen or
rejected response carries an uncleared unsafe or PHI flag is left out.
"""

import hashlib
import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from functools import partial
from itertools import combinations
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from curation.formats.writers.releases import WRITERS, ExportScope, TaskReviews
from curation.models import (
    EvaluationRound,
    FlagKind,
    ItemFlag,
    ModelResponse,
    Project,
    RatingSchema,
    Release,
    ReleaseFormat,
    ReleaseStatus,
    Review,
    RoundItem,
    RoundMode,
    RoundStatus,
    SeedTask,
    TaskStatus,
)
from curation.selectors.agreement import review_state_of
from curation.selectors.rounds import pairwise_axes, round_agreement, round_majority_items
from curation.services.agreement import INLINE_LIMIT, project_agreement_get

logger = logging.getLogger(__name__)

DEFAULT_LICENSE = "CC BY-NC 4.0"
RELEASES_DIR = "releases"
CHUNK_SIZE = 2000
PROGRESS_EVERY_SECONDS = 0.5
# A build reports every PROGRESS_EVERY_SECONDS while it writes (on PostgreSQL; SQLite development
# databases report at the end only); one silent for this long has died and may be retried.
STALE_AFTER_SECONDS = 600
BLOCKING_FLAGS = (FlagKind.UNSAFE, FlagKind.PHI)
DEFAULT_FILTERS: dict[str, Any] = {
    "statuses": [TaskStatus.ACCEPTED.value],
    "min_reviewers": 0,
    "min_agreement": None,
    "topics": [],
    "views": [],
    "types": [],
    "difficulties": [],
    "created_from": None,
    "created_to": None,
    "system_prompt": "",
    "rounds": [],
    "round_axis": "overall",
}
# Per-item agreement compares these kinds of field; free text and rubrics are not compared.
AGREEMENT_KINDS = ("ordinal_scale", "number", "single_choice", "multiple_choice")
ROUND_STATUSES = (RoundStatus.FROZEN, RoundStatus.CLOSED)
# Formats whose rows are seed tasks: the ones per-item agreement and its minimum apply to.
TASK_FORMATS = (ReleaseFormat.ALPACA, ReleaseFormat.CHAT)


class ReleaseNotRetryable(Exception):
    pass


# --- Agreement: the two questions releases ask of the agreement statistics ---


def _comparable(value: Any) -> Any:
    return frozenset(value) if isinstance(value, list) else value


def item_agreement(reviews: list[tuple[int, dict[str, Any]]], scored_keys: Mapping[int, list[str]]) -> float | None:
    """Per-item agreement (see the module docstring) of one item's current reviews, given as
    (schema id, answers); `scored_keys` maps a schema id to the keys of its compared fields."""
    if len(reviews) < 2:
        return None
    values: dict[str, list[Any]] = {}
    for schema_id, answers in reviews:
        for key in scored_keys.get(schema_id, ()):
            value = answers.get(key)
            if value is not None and value != []:
                values.setdefault(key, []).append(_comparable(value))
    shares = []
    for answered in values.values():
        pairs = list(combinations(answered, 2))
        if pairs:
            shares.append(sum(1 for x, y in pairs if x == y) / len(pairs))
    return round(sum(shares) / len(shares), 4) if shares else None


def item_agreements(
    *, reviews: QuerySet[Review], schemas: list[RatingSchema], chunk_size: int = CHUNK_SIZE
) -> Iterator[TaskReviews]:
    """The current reviews of every task among `reviews` that has any, summarised, in task id order.

    One query, streamed: the reviews of one task at a time are held, never the project's.
    """
    scored_keys = {schema.pk: [f["key"] for f in schema.fields if f["kind"] in AGREEMENT_KINDS] for schema in schemas}
    rows = (
        reviews.filter(seed_task__isnull=False)
        .order_by("seed_task_id", "id")
        .values_list("seed_task_id", "schema_id", "reviewer_id", "answers")
        .iterator(chunk_size=chunk_size)
    )
    current: int | None = None
    group: list[tuple[int, dict[str, Any]]] = []
    reviewers: list[int] = []
    for task_id, schema_id, reviewer_id, answers in rows:
        if task_id != current:
            if current is not None:
                yield TaskReviews(current, item_agreement(group, scored_keys), tuple(reviewers))
            current, group, reviewers = task_id, [], []
        group.append((schema_id, answers or {}))
        reviewers.append(reviewer_id)
    if current is not None:
        yield TaskReviews(current, item_agreement(group, scored_keys), tuple(reviewers))


def agreement_per_field(*, project: Project) -> list[dict[str, Any]] | None:
    """Krippendorff's alpha per rating field with its bootstrap CI, over the project's current reviews.

    Each entry: {"schema", "field", "statistic", "value", "ci_low", "ci_high", "n_items", "undefined"}.
    Computed here only when the project is small enough for curation.services.agreement to do it
    inline; a larger project's figures come from a worker and are not waited for (None: the card
    says so and points to the agreement page).
    """
    if review_state_of(project=project)[1] > INLINE_LIMIT:
        return None
    report = project_agreement_get(project=project)
    if report is None:
        return None
    return [
        _alpha_row(schema["schema"], field["label"], field["report"])
        for schema in report["schemas"]
        for field in schema["fields"]
    ]


def _alpha_row(schema: str, field: str, report: Mapping[str, Any] | None, undefined: str | None = None) -> dict:
    alpha = (report or {}).get("alpha") or {}
    return {
        "schema": schema,
        "field": field,
        "statistic": "Krippendorff's alpha",
        "value": alpha.get("value"),
        "ci_low": alpha.get("ci_low"),
        "ci_high": alpha.get("ci_high"),
        "n_items": alpha.get("n_units", 0),
        "undefined": alpha.get("undefined") or undefined,
    }


# --- Filters ---


def _text_list(raw: Any, name: str, errors: dict[str, str]) -> list[str]:
    if raw in (None, ""):
        return []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list | tuple) or not all(isinstance(v, str) for v in raw):
        errors[name] = "must be a list of names"
        return []
    return sorted({v.strip() for v in raw if v.strip()})


def _date(raw: Any, name: str, errors: dict[str, str]) -> str | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, datetime):
        raw = raw.date()
    if isinstance(raw, date):
        return raw.isoformat()
    try:
        return date.fromisoformat(str(raw)).isoformat()
    except ValueError:
        errors[name] = f"must be a date like 2026-01-31 (got {raw!r})"
        return None


def agreement_per_round_axis(*, rounds: list[EvaluationRound]) -> list[dict[str, Any]]:
    """Krippendorff's alpha per round and question between the rounds' judges (verdicts mapped back to
    models), in the shape of `agreement_per_field`, for the card of a release with round pairs."""
    return [
        _alpha_row(f"round {r.pk}: {r.name}", axis["label"], axis.get("report"), axis.get("undefined"))
        for r in rounds
        for axis in round_agreement(evaluation_round=r)
    ]


def _clean_rounds(project: Project, raw: Mapping[str, Any], errors: dict[str, str]) -> tuple[list[int], str]:
    """The `rounds` (ids of the project's frozen or closed pairwise rounds) and `round_axis` filters."""
    ids = raw.get("rounds") or []
    if not isinstance(ids, list | tuple):
        ids = [ids]
    try:
        if any(isinstance(i, bool) for i in ids):
            raise ValueError
        ids = sorted({int(i) for i in ids})
    except (TypeError, ValueError):
        errors["rounds"] = f"must be a list of round ids (got {raw.get('rounds')!r})"
        ids = []
    axis = raw.get("round_axis") or DEFAULT_FILTERS["round_axis"]
    if not isinstance(axis, str):
        errors["round_axis"] = "must be the key of a pairwise question, e.g. overall"
        return ids, DEFAULT_FILTERS["round_axis"]
    axis = axis.strip()
    chosen = {r.pk: r for r in EvaluationRound.objects.filter(project=project, pk__in=ids).select_related("schema")}
    unusable = [
        i for i in ids if i not in chosen or not chosen[i].is_pairwise or chosen[i].status not in ROUND_STATUSES
    ]
    if unusable and "rounds" not in errors:
        errors["rounds"] = (
            f"round(s) {', '.join(map(str, unusable))} are not frozen or closed pairwise rounds of {project.slug}"
        )
    rounds = list(chosen.values()) if ids else list(_default_rounds(project))
    lacking = [r.name for r in rounds if r.is_pairwise and axis not in {f["key"] for f in pairwise_axes(r)}]
    if lacking:
        errors["round_axis"] = f"{axis!r} is not a pairwise question of round(s) {', '.join(map(repr, lacking))}"
    return ids, axis


def _default_rounds(project: Project) -> QuerySet[EvaluationRound]:
    return EvaluationRound.objects.filter(
        project=project, mode=RoundMode.PAIRWISE, status__in=ROUND_STATUSES
    ).select_related("schema")


def release_rounds(*, project: Project, filters: Mapping[str, Any]) -> list[EvaluationRound]:
    """The rounds a preference release reads pairs from, in id order: `filters["rounds"]`, or by default
    every frozen or closed pairwise round of the project."""
    rounds = _default_rounds(project)
    if filters["rounds"]:
        rounds = rounds.filter(pk__in=filters["rounds"])
    return list(rounds.order_by("pk"))


def release_round_items(
    *, project: Project, filters: Mapping[str, Any], rounds: list[EvaluationRound]
) -> QuerySet[RoundItem]:
    """The round items with a clear majority that a preference release exports (see the module docstring)."""
    items = round_majority_items(
        rounds=rounds, axis=filters["round_axis"], min_judgments=max(2, filters["min_reviewers"])
    )
    if filters["topics"] or filters["views"] or filters["types"]:
        return items.none()
    items = _difficulty_and_dates(items, filters, prefix="prompt__")
    for side in ("response_a_id", "response_b_id"):
        items = items.exclude(_blocking_flag("response", side))
    return items


def release_filters_clean(*, project: Project, filters: Mapping[str, Any] | None) -> dict[str, Any]:
    """The filters in canonical form (sorted lists, ISO dates, defaults filled in).

    Raises ValidationError keyed by filter name for an unknown filter or a bad value, e.g. a topic
    no task of the project has. Canonical form makes equal definitions hash equal.
    """
    raw = dict(filters or {})
    errors: dict[str, str] = {}
    for unknown in sorted(set(raw) - set(DEFAULT_FILTERS)):
        errors[unknown] = f"is not a filter (known: {', '.join(DEFAULT_FILTERS)})"
    clean: dict[str, Any] = {}

    statuses = _text_list(raw.get("statuses", DEFAULT_FILTERS["statuses"]), "statuses", errors)
    bad = [s for s in statuses if s not in TaskStatus.values]
    if bad:
        errors["statuses"] = f"unknown status {', '.join(bad)} (use {', '.join(TaskStatus.values)})"
    elif not statuses and "statuses" not in errors:
        errors["statuses"] = "choose at least one status"
    clean["statuses"] = statuses

    min_reviewers = raw.get("min_reviewers") or 0
    try:
        min_reviewers = int(min_reviewers)
        if isinstance(raw.get("min_reviewers"), bool) or min_reviewers < 0:
            raise ValueError
    except (TypeError, ValueError):
        errors["min_reviewers"] = f"must be a whole number, 0 or more (got {raw.get('min_reviewers')!r})"
        min_reviewers = 0
    clean["min_reviewers"] = min_reviewers

    min_agreement = raw.get("min_agreement")
    if min_agreement in (None, ""):
        min_agreement = None
    else:
        try:
            if isinstance(min_agreement, bool):
                raise ValueError
            min_agreement = float(min_agreement)
            if not 0.0 <= min_agreement <= 1.0:
                raise ValueError
        except (TypeError, ValueError):
            errors["min_agreement"] = (
                "must be a number from 0 to 1, the share of reviewer pairs that agree "
                f"(got {raw.get('min_agreement')!r})"
            )
            min_agreement = None
    clean["min_agreement"] = min_agreement

    clean["rounds"], clean["round_axis"] = _clean_rounds(project, raw, errors)

    tasks = SeedTask.objects.filter(project=project)
    for name, term, raw_field in (
        ("topics", "topic__name", "topic_raw"),
        ("views", "view__name", "view_raw"),
        ("types", "task_type__name", "task_type_raw"),
    ):
        values = _text_list(raw.get(name), name, errors)
        if values:
            known = set(tasks.filter(**{f"{term}__in": values}).values_list(term, flat=True))
            known |= set(tasks.filter(**{f"{raw_field}__in": values}).values_list(raw_field, flat=True))
            missing = [v for v in values if v not in known]
            if missing:
                errors[name] = f"no task in {project.slug} has {name[:-1]} {', '.join(map(repr, missing))}"
        clean[name] = values

    difficulties = raw.get("difficulties") or []
    if not isinstance(difficulties, list | tuple):
        difficulties = [difficulties]
    try:
        difficulties = sorted({int(d) for d in difficulties})
        if any(not 1 <= d <= 5 for d in difficulties):
            raise ValueError
    except (TypeError, ValueError):
        errors["difficulties"] = f"must be whole numbers from 1 to 5 (got {raw.get('difficulties')!r})"
        difficulties = []
    clean["difficulties"] = difficulties

    clean["created_from"] = _date(raw.get("created_from"), "created_from", errors)
    clean["created_to"] = _date(raw.get("created_to"), "created_to", errors)
    if clean["created_from"] and clean["created_to"] and clean["created_from"] > clean["created_to"]:
        errors["created_to"] = "must not be before created_from"

    system_prompt = raw.get("system_prompt") or ""
    if not isinstance(system_prompt, str):
        errors["system_prompt"] = "must be text"
        system_prompt = ""
    clean["system_prompt"] = system_prompt.replace("\r\n", "\n").strip()

    if errors:
        raise ValidationError(errors)
    return clean


def release_definition_hash(*, project: Project, format: str, filters: Mapping[str, Any]) -> str:
    payload = json.dumps({"project": project.pk, "format": format, "filters": filters}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# --- Scope: what a release reads ---


def _reviewer_count(item_field: str) -> Subquery:
    reviews = (
        Review.objects.filter(**{item_field: OuterRef("pk")}, is_current=True)
        .order_by()
        .values(item_field)
        .annotate(n=Count("reviewer", distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(reviews, output_field=IntegerField()), Value(0))


def _blocking_flag(item_field: str, outer: str = "pk") -> Exists:
    return Exists(
        ItemFlag.objects.filter(**{item_field: OuterRef(outer)}, kind__in=BLOCKING_FLAGS, cleared_at__isnull=True)
    )


def _difficulty_and_dates(items: QuerySet, filters: Mapping[str, Any], prefix: str = "") -> QuerySet:
    """`items` narrowed by the difficulty and creation-date filters, on the model `prefix` leads to."""
    if filters["difficulties"]:
        items = items.filter(**{f"{prefix}difficulty__in": filters["difficulties"]})
    if filters["created_from"]:
        items = items.filter(**{f"{prefix}created_at__date__gte": filters["created_from"]})
    if filters["created_to"]:
        items = items.filter(**{f"{prefix}created_at__date__lte": filters["created_to"]})
    return items


def release_tasks(*, project: Project, filters: Mapping[str, Any]) -> QuerySet[SeedTask]:
    """The seed tasks a release with these (clean) filters includes, annotated with `n_reviewers`, in id order.

    Tasks with an uncleared unsafe or PHI flag are always left out.
    """
    tasks = SeedTask.objects.filter(project=project, status__in=filters["statuses"])
    for name, term, raw_field in (
        ("topics", "topic__name", "topic_raw"),
        ("views", "view__name", "view_raw"),
        ("types", "task_type__name", "task_type_raw"),
    ):
        if filters[name]:
            tasks = tasks.filter(Q(**{f"{term}__in": filters[name]}) | Q(**{f"{raw_field}__in": filters[name]}))
    tasks = _difficulty_and_dates(tasks, filters)
    tasks = tasks.exclude(_blocking_flag("seed_task")).annotate(n_reviewers=_reviewer_count("seed_task"))
    if filters["min_reviewers"]:
        tasks = tasks.filter(n_reviewers__gte=filters["min_reviewers"])
    return tasks.select_related("topic", "view", "task_type").order_by("id")


def release_reviews(*, project: Project, filters: Mapping[str, Any]) -> QuerySet[Review]:
    """Current reviews of the items in scope: reviews of the tasks, and of model responses to those tasks.

    Responses to test prompts (which have no curation status, topic or view) are in scope when no
    topic, view or type filter is set, their prompt passes the difficulty and date filters, and
    enough reviewers reviewed the response. Flagged responses are left out like flagged tasks.
    """
    task_ids = release_tasks(project=project, filters=filters).values("pk")
    prompts = Q(prompt__project=project)
    if filters["topics"] or filters["views"] or filters["types"]:
        prompts = Q(pk__in=[])
    else:
        if filters["difficulties"]:
            prompts &= Q(prompt__difficulty__in=filters["difficulties"])
        if filters["created_from"]:
            prompts &= Q(prompt__created_at__date__gte=filters["created_from"])
        if filters["created_to"]:
            prompts &= Q(prompt__created_at__date__lte=filters["created_to"])
        if filters["min_reviewers"]:
            prompts &= Q(n_reviewers__gte=filters["min_reviewers"])
    responses = (
        ModelResponse.objects.annotate(n_reviewers=_reviewer_count("response"))
        .filter(Q(seed_task__in=task_ids) | prompts)
        .exclude(_blocking_flag("response"))
        .values("pk")
    )
    # Two IN (subquery) tests rather than a join through the response: PostgreSQL hashes each once.
    reviews = Review.objects.filter(project=project, is_current=True).filter(
        Q(seed_task__in=task_ids) | Q(response__in=responses)
    )
    return reviews.select_related(
        "schema", "seed_task", "response", "response__seed_task", "response__prompt"
    ).order_by("id")


def _scope(release: Release, project: Project) -> ExportScope:
    """The querysets a release reads, and a summary of the reviews behind its rows (one grouped query).

    For the formats made of tasks (alpaca, chat) the reviews behind the rows are the tasks' own
    reviews; for the review formats they are every review in scope, responses' included.
    """
    filters = {**DEFAULT_FILTERS, **release.filters}
    tasks = release_tasks(project=project, filters=filters)
    reviews = release_reviews(project=project, filters=filters)
    task_reviews = Review.objects.filter(project=project, is_current=True, seed_task__in=tasks.values("pk"))
    behind = task_reviews if WRITERS[release.format].streams_tasks else reviews
    groups = list(behind.order_by().values("schema_id", "reviewer_id").annotate(n=Count("id")))
    schema_ids = {group["schema_id"] for group in groups}
    schemas = list(RatingSchema.objects.filter(pk__in=schema_ids).order_by("name", "version", "id"))
    rounds = release_rounds(project=project, filters=filters) if release.format == ReleaseFormat.PREFERENCE else []
    return ExportScope(
        tasks=tasks,
        reviews=reviews,
        schemas=schemas,
        salt=release.salt,
        system_prompt=filters["system_prompt"],
        agreements=partial(item_agreements, reviews=task_reviews, schemas=schemas, chunk_size=CHUNK_SIZE),
        min_agreement=filters["min_agreement"],
        round_items=release_round_items(project=project, filters=filters, rounds=rounds) if rounds else None,
        round_axis=filters["round_axis"],
        rounds=rounds,
        chunk_size=CHUNK_SIZE,
        review_count=sum(group["n"] for group in groups),
        reviewer_count=len({group["reviewer_id"] for group in groups}),
    )


# --- Creating and building ---


@transaction.atomic
def release_create(
    *,
    project: Project,
    created_by: User | None,
    format: str,
    filters: Mapping[str, Any] | None = None,
    title: str = "",
    purpose: str = "",
    license: str = DEFAULT_LICENSE,
    enqueue: bool = True,
) -> Release:
    """Define a release and (by default) queue its build on a worker once this transaction commits.

    Raises ValidationError keyed by field (format, title, license or a filter name); nothing is saved then.
    """
    errors: dict[str, Any] = {}
    if format not in ReleaseFormat.values:
        errors["format"] = f"must be one of {', '.join(ReleaseFormat.values)} (got {format!r})"
    license = (license or "").strip()
    if not license:
        errors["license"] = "Say under which license the data may be used."
    try:
        clean = release_filters_clean(project=project, filters=filters)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        clean = {}
    if clean.get("min_agreement") is not None and format not in TASK_FORMATS:
        errors["min_agreement"] = (
            f"applies to the seed-task formats ({', '.join(TASK_FORMATS)}) only; leave it empty for {format}"
        )
    if errors:
        raise ValidationError(errors)
    release = Release(
        project=project,
        title=(title or "").strip() or f"{project.name}: {ReleaseFormat(format).label}",
        purpose=(purpose or "").strip(),
        license=license,
        format=format,
        filters=clean,
        definition_hash=release_definition_hash(project=project, format=format, filters=clean),
        salt=secrets.token_hex(32),
        created_by=created_by,
    )
    release.full_clean()
    release.save()
    if enqueue:
        _enqueue(release)
    return release


def _enqueue(release: Release) -> None:
    from curation.jobs import release_build_task

    transaction.on_commit(partial(release_build_task.delay, release.pk))


def releases_root() -> Path:
    return Path(settings.MEDIA_ROOT) / RELEASES_DIR


def release_directory(release: Release) -> Path:
    return releases_root() / f"release-{release.pk}"


def _claim(release_id: int, *, resume_running: bool) -> Release | None:
    """Move a queued release (or, for a redelivered task, a running one whose worker died) to running."""
    with transaction.atomic():
        release = Release.objects.select_for_update().get(pk=release_id)
        claimable = release.status == ReleaseStatus.QUEUED or (
            resume_running and release.status == ReleaseStatus.RUNNING
        )
        if not claimable:
            return None
        now = timezone.now()
        release.status = ReleaseStatus.RUNNING
        release.attempts += 1
        release.started_at = now
        release.heartbeat_at = now
        release.rows_total = 0
        release.rows_written = 0
        release.error = ""
        release.save(
            update_fields=[
                "status",
                "attempts",
                "started_at",
                "heartbeat_at",
                "rows_total",
                "rows_written",
                "error",
            ]
        )
        return release


class _Progress:
    """Publishes rows written while the snapshot transaction is still open.

    The build's own transaction cannot show progress to others until it commits, so on PostgreSQL
    progress goes through a second, autocommit connection. SQLite allows one writer at a time and
    tests keep its database in memory per connection, so there progress is recorded at the end only.
    """

    def __init__(self, release_id: int) -> None:
        self.release_id = release_id
        self.side = None
        if connection.vendor == "postgresql":
            self.side = connections.create_connection(DEFAULT_DB_ALIAS)
        self.last = 0.0

    def report(self, *, written: int, total: int, force: bool = False) -> None:
        now = time.monotonic()
        if self.side is None or (not force and now - self.last < PROGRESS_EVERY_SECONDS):
            return
        self.last = now
        table = Release._meta.db_table
        with self.side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET rows_written = %s, rows_total = %s, heartbeat_at = %s WHERE id = %s",
                [written, total, timezone.now(), self.release_id],
            )

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


def _build_in_snapshot(release: Release, work_dir: Path, on_line: Callable[[int], None] | None) -> dict[str, Any]:
    """Write data and card into `work_dir` from one consistent read of the database.

    On PostgreSQL the reads share one REPEATABLE READ transaction, so edits committed meanwhile
    cannot tear the release. When called inside an open transaction (a test, or a caller's own
    atomic block) the isolation level is already fixed and that transaction's view is used.
    """
    writer = WRITERS[release.format]
    progress = _Progress(release.pk)
    outermost = not connection.in_atomic_block
    try:
        with transaction.atomic():
            if outermost and connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            project = Project.objects.get(pk=release.project_id)
            scope = _scope(release, project)
            total = writer.count(scope)
            progress.report(written=0, total=total, force=True)
            digest = hashlib.sha256()
            rows = 0
            data_path = work_dir / f"data.{writer.extension}"
            with open(data_path, "wb") as out:
                for line in writer.lines(scope):
                    out.write(line)
                    digest.update(line)
                    rows += 1
                    if on_line is not None:
                        on_line(rows)
                    progress.report(written=rows, total=total)
                out.flush()
                os.fsync(out.fileno())
            if writer.extension == "csv":
                rows -= 1  # the header row is not a data row
            stats = _card_stats(project, scope, writer.streams_tasks)
            manifest = {
                "row_count": rows,
                "rows_total": total,
                "sha256": digest.hexdigest(),
                "file_size": data_path.stat().st_size,
                "file_name": data_path.name,
                "schema_versions": [
                    {"id": s.pk, "name": s.name, "version": s.version, "target": s.target} for s in scope.schemas
                ],
                "guidelines_version": project.guidelines_version,
            }
            card = dataset_card_render(release=release, project=project, manifest=manifest, stats=stats)
            (work_dir / "README.md").write_text(card, encoding="utf-8")
            manifest["card"] = card
            return manifest
    finally:
        progress.close()


def release_build(
    *, release_id: int, resume_running: bool = False, on_line: Callable[[int], None] | None = None
) -> Release:
    """Build a queued release; a no-op for one that is running elsewhere or finished.

    `resume_running` takes over a release left running by a worker that died (a redelivered task).
    A failure marks the release failed with the error and leaves no file in view; it can be retried
    with release_retry. `on_line` is called after each line written (progress hooks, tests).
    """
    release = _claim(release_id, resume_running=resume_running)
    if release is None:
        return Release.objects.get(pk=release_id)
    root = releases_root()
    root.mkdir(parents=True, exist_ok=True)
    for leftover in root.glob(f".release-{release.pk}-*.part"):
        shutil.rmtree(leftover, ignore_errors=True)
    work_dir = root / f".release-{release.pk}-{secrets.token_hex(6)}.part"
    work_dir.mkdir()
    try:
        manifest = _build_in_snapshot(release, work_dir, on_line)
        final_dir = release_directory(release)
        if final_dir.exists():
            # An earlier attempt published its files and died before recording them.
            shutil.rmtree(final_dir)
        os.replace(work_dir, final_dir)
    except Exception as exc:
        logger.exception("Release %s failed", release.pk)
        shutil.rmtree(work_dir, ignore_errors=True)
        return _mark_failed(release.pk, f"{type(exc).__name__}: {exc}")
    return _mark_succeeded(release.pk, manifest)


@transaction.atomic
def _mark_succeeded(release_id: int, manifest: dict[str, Any]) -> Release:
    release = Release.objects.select_for_update().get(pk=release_id)
    release.status = ReleaseStatus.SUCCEEDED
    release.row_count = manifest["row_count"]
    release.rows_written = manifest["row_count"]
    release.rows_total = manifest["rows_total"]
    release.sha256 = manifest["sha256"]
    release.file_size = manifest["file_size"]
    release.file_path = f"{RELEASES_DIR}/release-{release.pk}/{manifest['file_name']}"
    release.schema_versions = manifest["schema_versions"]
    release.guidelines_version = manifest["guidelines_version"]
    release.card = manifest["card"]
    release.finished_at = timezone.now()
    release.heartbeat_at = release.finished_at
    release.save(
        update_fields=[
            "status",
            "row_count",
            "rows_written",
            "rows_total",
            "sha256",
            "file_size",
            "file_path",
            "schema_versions",
            "guidelines_version",
            "card",
            "finished_at",
            "heartbeat_at",
        ]
    )
    return release


@transaction.atomic
def _mark_failed(release_id: int, error: str) -> Release:
    release = Release.objects.select_for_update().get(pk=release_id)
    release.status = ReleaseStatus.FAILED
    release.error = error[:2000]
    release.finished_at = timezone.now()
    release.save(update_fields=["status", "error", "finished_at"])
    return release


def release_is_stalled(release: Release, *, now: datetime | None = None) -> bool:
    """A running release whose build has not reported for STALE_AFTER_SECONDS: its worker died."""
    if release.status != ReleaseStatus.RUNNING or release.heartbeat_at is None:
        return False
    return ((now or timezone.now()) - release.heartbeat_at).total_seconds() > STALE_AFTER_SECONDS


@transaction.atomic
def release_retry(*, release_id: int, actor: User | None, enqueue: bool = True) -> Release:
    """Queue a failed or stalled release again with its own definition and salt (same pseudonyms).

    Raises ReleaseNotRetryable for a release that succeeded (immutable), is queued, or is still running.
    """
    release = Release.objects.select_for_update().get(pk=release_id)
    if not (release.status == ReleaseStatus.FAILED or release_is_stalled(release)):
        raise ReleaseNotRetryable(
            f"Release {release.pk} is {release.get_status_display().lower()}: "
            "only failed or stalled releases can be retried."
        )
    release.status = ReleaseStatus.QUEUED
    release.finished_at = None
    release.rows_written = 0
    release.save(update_fields=["status", "finished_at", "rows_written"])
    if enqueue:
        _enqueue(release)
    return release


# --- The dataset card ---


def _card_stats(project: Project, scope: ExportScope, writer_streamed_tasks: bool) -> dict[str, Any]:
    """The card's counts: gathered while the rows streamed, or in one more streaming pass for review formats."""
    if not writer_streamed_tasks:
        for _ in scope.task_rows():
            pass
    stats = scope.stats

    def by_count(counter) -> list[tuple[Any, int]]:
        return sorted(counter.items(), key=lambda item: (-item[1], str(item[0])))

    return {
        "tasks": stats.tasks,
        "without_output": stats.without_output,
        "topics": by_count(stats.topics),
        "views": by_count(stats.views),
        "types": by_count(stats.types),
        "difficulty": sorted(stats.difficulty.items()),
        "reviewers_per_task": sorted(stats.reviewers_per_task.items()),
        # The tasks' own reviews, counted as the rows streamed (a minimum agreement drops some tasks);
        # for the review formats, every review in scope.
        "reviews": stats.reviews if writer_streamed_tasks else scope.review_count,
        "reviewers": len(stats.reviewer_ids) if writer_streamed_tasks else scope.reviewer_count,
        "sources": by_count(stats.sources),
        "agreement": agreement_per_field(project=project),
        "round_agreement": agreement_per_round_axis(rounds=scope.rounds),
        "pair_sources": stats.pair_sources,
        "rounds": scope.rounds,
        "round_axis": scope.round_axis,
    }


def _md(text: Any) -> str:
    """Table-cell text: a pipe or newline from a user's label must not break the card's tables."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _ci(entry: Mapping[str, Any]) -> str:
    if entry["ci_low"] is None or entry["ci_high"] is None:
        return _md(entry.get("undefined") or "-")
    return f"{entry['ci_low']:.3f} to {entry['ci_high']:.3f}"


def _agreement_table(rows: list[Mapping[str, Any]], first: str = "form") -> list[str]:
    return [
        f"| {first} | field | statistic | value | 95% CI | items |",
        "| --- | --- | --- | ---: | --- | ---: |",
        *(
            f"| {_md(a['schema'])} | {_md(a['field'])} | {a['statistic']} | {_figure(a['value'])} "
            f"| {_ci(a)} | {a['n_items']} |"
            for a in rows
        ),
    ]


def _table(title: str, rows: list[tuple[Any, int]], first: str) -> list[str]:
    lines = [f"### {title}", "", f"| {first} | items |", "| --- | ---: |"]
    lines += [f"| {_md(label)} | {n} |" for label, n in rows] or ["| (none) | 0 |"]
    return [*lines, ""]


FORMAT_NOTES = {
    "alpaca": "One JSON object per line: `instruction`, `input` (empty when none), `output`, and `metadata`.",
    "chat": "One JSON object per line: `messages` (optional system, user, assistant) and `metadata`.",
    "preference": "One JSON object per line: `prompt`, `chosen`, `rejected` and `metadata`, whose `source` is "
    "`correction` (a clinician's correction chosen over the text corrected; corrections that change nothing "
    "are ties and are left out) or `round` (the answer a clear majority of an evaluation round's judges "
    "preferred, with `round_id`, `votes_for`, `votes_against` and `judgments`; ties are never exported).",
    "reviews": "One JSON object per line for each (item, reviewer, field) of every current review.",
    "reviews_csv": "CSV, one row for each (item, reviewer, field) of every current review.",
    "scores_csv": "CSV, one row per current review with a column per numeric rating field.",
}


def unused_filters(format: str) -> tuple[str, ...]:
    """Filters that do not apply to a format, left out where a release's filters are shown."""
    return () if format == ReleaseFormat.PREFERENCE else ("rounds", "round_axis")


def _pair_sources(stats: Mapping[str, Any], min_judgments: int) -> list[str]:
    """The card's count of preference pairs by source, with the rounds read and their state."""
    counts = stats["pair_sources"]
    lines = [
        "### Preference pairs by source",
        "",
        "| source | pairs |",
        "| --- | ---: |",
        f"| clinician corrections | {counts.get('correction', 0)} |",
    ]
    lines += [
        f"| round {r.pk}: {_md(r.name)} ({r.get_status_display().split(':')[0].lower()}) | {counts.get(r.pk, 0)} |"
        for r in stats["rounds"]
    ]
    lines += [
        "",
        f"Round pairs: items where strictly more than half of the judgments on `{stats['round_axis']}` picked the "
        f'same model (at least {min_judgments} judgments); ties and "both bad" are never exported. Rounds read: '
        + (", ".join(str(r.pk) for r in stats["rounds"]) or "none")
        + " (by default every frozen or closed pairwise round; a frozen round counts the judgments made so far).",
        "",
    ]
    return lines


def dataset_card_render(
    *, release: Release, project: Project, manifest: Mapping[str, Any], stats: Mapping[str, Any]
) -> str:
    """The README.md shipped with a release: what it is for, what is in it, how it was made."""
    filters = release.filters
    round_min_judgments = max(2, int(filters.get("min_reviewers") or 0))
    chosen = [
        f"- {name.replace('_', ' ')}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
        for name, value in filters.items()
        if value not in (None, "", [], 0) and name != "system_prompt" and name not in unused_filters(release.format)
    ]
    lines = [
        f"# {release.title}",
        "",
        f"Release {release.pk} of the Concord project **{project.name}** (`{project.slug}`).",
        "",
        "## Purpose",
        "",
        release.purpose or "Not stated by the release's author.",
        "",
        "## Contents",
        "",
        f"- Format: `{release.format}`. {FORMAT_NOTES[release.format]}",
        f"- Rows: {manifest['row_count']}",
        f"- SHA-256 of `{manifest['file_name']}`: `{manifest['sha256']}`",
        f"- Seed tasks in scope: {stats['tasks']} ({stats['without_output']} without a reference output)",
        f"- Current reviews behind these rows: {stats['reviews']} by {stats['reviewers']} reviewers",
        "",
        *_table("Topics", stats["topics"], "topic"),
        *_table("Views", stats["views"], "view"),
        *_table("Task types", stats["types"], "type"),
        *_table("Difficulty (1 easiest, 5 hardest)", stats["difficulty"], "difficulty"),
        *_table("Reviewers per seed task", stats["reviewers_per_task"], "reviewers"),
        *(_pair_sources(stats, round_min_judgments) if release.format == ReleaseFormat.PREFERENCE else []),
        "## Agreement",
        "",
    ]
    if stats["agreement"]:
        lines += _agreement_table(stats["agreement"])
        lines += ["", "Computed over all current reviews of the project, of which this release's items are a part."]
    else:
        lines.append(
            "Inter-rater agreement was not computed for this release (none yet, or the project is large enough "
            "that a worker computes it: see the project's agreement page)."
        )
    if stats["round_agreement"]:
        lines += ["", "Between the judges of the evaluation rounds read (each verdict mapped back to the models):", ""]
        lines += _agreement_table(stats["round_agreement"], first="round")
        lines += ["", "Items judged by two or more reviewers; 200 bootstrap draws over items, as on the round's page."]
    if release.format in TASK_FORMATS:
        lines += [
            "",
            "Each row's `metadata.agreement` is the item's own agreement: for a seed task with two or more current "
            "reviews, the mean over its form's scored fields (scales, numbers, single and multiple choices; not free "
            "text) of the share of reviewer pairs whose answers agree exactly, over the reviewers who answered the "
            "field; null with fewer than two reviews. Rounded to 4 places.",
        ]
    lines += [
        "",
        "## License",
        "",
        f"{release.license}. Items imported from third-party files keep their source's license and "
        "attribution; the sources are listed below.",
        "",
        *_table("Sources", stats["sources"], "file"),
        "## How it was made",
        "",
        f"- Clinicians curated the items in Concord under guidelines version {manifest['guidelines_version']}.",
        "- Rating forms: "
        + (", ".join(f"{s['name']} v{s['version']}" for s in manifest["schema_versions"]) or "none in scope")
        + ".",
        "- Filters:",
        *(f"  {line}" for line in chosen),
        "- Items with an uncleared unsafe or PHI flag are left out.",
        "- Read from one consistent database snapshot; rows in id order, so rebuilding the same definition "
        "on unchanged data gives the same bytes.",
        "- Reviewer ids are pseudonyms keyed to this release: stable within it, unlinkable across releases.",
        f"- Built by {release.created_by or 'the command line'} on "
        f"{timezone.now():%Y-%m-%d %H:%M} UTC, attempt {release.attempts}.",
        "",
    ]
    return "\n".join(lines)
