"""Dataset releases: define one, build it from one consistent snapshot, publish it atomically, retry it.

A release's definition (format and filters) is curation.releases_definition; the rows it takes are
read by curation.selectors.releases; the rows are written by curation.formats.writers and its card
by curation.formats.writers.card. This module owns the release's life: create, build, retry.

A release's files live in MEDIA_ROOT/releases/<id>/ (`data.<ext>` and `README.md`, the dataset
card). They are written into a hidden `.release-<id>-<random>.part` directory and renamed into place
only when complete, so a build that dies half-way leaves nothing that looks like a release.
"""

import hashlib
import hmac
import logging
import os
import secrets
import shutil
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from accounts.models import User
from curation.formats.writers.card import dataset_card_render
from curation.formats.writers.releases import WRITERS, ExportScope, ReleaseWriter
from curation.jobs import release_build_task
from curation.models import EvaluationRound, Project, Release, ReleaseFormat, ReleaseKey, ReleaseStatus
from curation.releases_definition import ReleaseDefinition
from curation.selectors.agreement import review_state_of
from curation.selectors.releases import release_empty_hint, release_row_count, release_scope
from curation.selectors.rounds import round_agreement
from curation.services.agreement import INLINE_LIMIT, project_agreement_get

logger = logging.getLogger(__name__)

DEFAULT_LICENSE = "CC BY-NC 4.0"
RELEASES_DIR = "releases"
CHUNK_SIZE = 2000
PROGRESS_EVERY_SECONDS = 0.5
# A build reports every PROGRESS_EVERY_SECONDS while it writes (on PostgreSQL; SQLite development
# databases report at the end only); one silent for this long has died and may be retried.
STALE_AFTER_SECONDS = 600


class ReleaseNotRetryable(Exception):
    pass


class EmptyRelease(Exception):
    """A build that wrote no row: it fails rather than publish an empty, immutable release."""


# --- The agreement figures the card gives ---


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


def agreement_per_round_axis(*, rounds: list[EvaluationRound]) -> list[dict[str, Any]]:
    """Krippendorff's alpha per round and question between the rounds' judges (verdicts mapped back to
    models), in the shape of `agreement_per_field`, for the card of a release with round pairs."""
    return [
        _alpha_row(f"round {r.pk}: {r.name}", axis["label"], axis.get("report"), axis.get("undefined"))
        for r in rounds
        for axis in round_agreement(evaluation_round=r)
    ]


# --- Creating ---


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

    `format` and `filters` are read by ReleaseDefinition.from_data, as given by a page, the API or the
    command line. Raises ValidationError keyed by field (format, license or a filter name); nothing
    is saved then.
    """
    errors: dict[str, Any] = {}
    license = (license or "").strip()
    if not license:
        errors["license"] = "Say under which license the data may be used."
    try:
        definition = ReleaseDefinition.from_data(project=project, format=format, filters=filters)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    else:
        errors.update(_emptiness(project, definition))
    if errors:
        raise ValidationError(errors)
    release = Release(
        project=project,
        title=(title or "").strip() or f"{project.name}: {ReleaseFormat(format).label}",
        purpose=(purpose or "").strip(),
        license=license,
        format=definition.format,
        filters=definition.filters.as_dict(),
        definition_hash=definition.definition_hash(project=project),
        salt=_pseudonym_salt(project, definition.definition_hash(project=project)),
        created_by=created_by,
    )
    release.full_clean()
    release.save()
    if enqueue:
        _enqueue(release)
    return release


# --- The project's pseudonym key ---


def release_key_get(*, project: Project) -> ReleaseKey:
    """The project's pseudonym key, created (once) with its first release."""
    key, _ = ReleaseKey.objects.get_or_create(project=project, defaults={"secret": secrets.token_hex(32)})
    return key


@transaction.atomic
def release_key_rotate(*, project: Project, actor: User | None) -> ReleaseKey:
    """Give the project a new pseudonym key: releases defined from now on name reviewers anew, unlinkably
    to the releases before; those keep their files and their pseudonyms."""
    key = release_key_get(project=project)
    key = ReleaseKey.objects.select_for_update().get(pk=key.pk)
    key.secret = secrets.token_hex(32)
    key.rotated_at = timezone.now()
    key.save(update_fields=["secret", "rotated_at"])
    logger.info("Release pseudonym key of project %s rotated by %s", project.slug, actor or "the command line")
    return key


def _pseudonym_salt(project: Project, definition_hash: str) -> str:
    """The salt of a release's pseudonyms: the same for one definition until the project's key is rotated,
    so rebuilding a definition on unchanged data gives the same bytes."""
    secret = release_key_get(project=project).secret
    return hmac.new(secret.encode("ascii"), definition_hash.encode("ascii"), hashlib.sha256).hexdigest()


def _emptiness(project: Project, definition: ReleaseDefinition) -> dict[str, str]:
    """The refusal of a definition that gives no row now, keyed `filters`; none for one that gives rows.

    An empty release would still become an immutable, numbered release; refusing it here says why instead.
    """
    read = {"project": project, "format": definition.format, "filters": definition.filters}
    if release_row_count(**read).rows:
        return {}
    return {"filters": f"This release would hold no row: {release_empty_hint(**read)}."}


def _enqueue(release: Release) -> None:
    transaction.on_commit(partial(release_build_task.delay, release.pk))


def releases_root() -> Path:
    return Path(settings.MEDIA_ROOT) / RELEASES_DIR


def release_directory(release: Release) -> Path:
    return releases_root() / f"release-{release.pk}"


# --- Building ---


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
            update_fields=["status", "attempts", "started_at", "heartbeat_at", "rows_total", "rows_written", "error"]
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


def _write_data(
    writer: ReleaseWriter,
    scope: ExportScope,
    data_path: Path,
    progress: _Progress,
    on_line: Callable[[int], None] | None,
) -> tuple[int, int, str]:
    """Stream the writer's lines to `data_path`, durably; returns (data rows, rows expected, SHA-256 of the file)."""
    total = writer.count(scope)
    progress.report(written=0, total=total, force=True)
    digest = hashlib.sha256()
    rows = 0
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
    return rows, total, digest.hexdigest()


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
        "left_out_without_output": scope.left_out_without_output,
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


def _build_in_snapshot(release: Release, work_dir: Path, on_line: Callable[[int], None] | None) -> dict[str, Any]:
    """Write data and card into `work_dir` from one consistent read of the database; return the manifest.

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
            filters = ReleaseDefinition.from_release(format=release.format, filters=release.filters).filters
            scope = release_scope(
                format=release.format,
                salt=release.salt,
                project=project,
                filters=filters,
                streams_tasks=writer.streams_tasks,
                chunk_size=CHUNK_SIZE,
            )
            data_path = work_dir / f"data.{writer.extension}"
            rows, total, sha256 = _write_data(writer, scope, data_path, progress, on_line)
            stats = _card_stats(project, scope, writer.streams_tasks)
            manifest = {
                "row_count": rows,
                "rows_total": total,
                "sha256": sha256,
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
        if not manifest["row_count"]:
            raise EmptyRelease("the definition gave no row when built (the data changed since it was defined)")
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


# Manifest entries recorded on the release as they are.
MANIFEST_FIELDS = ("row_count", "rows_total", "sha256", "file_size", "schema_versions", "guidelines_version", "card")


@transaction.atomic
def _mark_succeeded(release_id: int, manifest: dict[str, Any]) -> Release:
    release = Release.objects.select_for_update().get(pk=release_id)
    for name in MANIFEST_FIELDS:
        setattr(release, name, manifest[name])
    release.status = ReleaseStatus.SUCCEEDED
    release.rows_written = manifest["row_count"]
    release.file_path = f"{RELEASES_DIR}/release-{release.pk}/{manifest['file_name']}"
    release.finished_at = timezone.now()
    release.heartbeat_at = release.finished_at
    release.save(update_fields=[*MANIFEST_FIELDS, "status", "rows_written", "file_path", "finished_at", "heartbeat_at"])
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
