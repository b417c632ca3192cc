"""Building a release: one attempt writes its files from one consistent snapshot and publishes them atomically.

A release's files live in MEDIA_ROOT/releases/release-<id>/ (`data.<ext>`, `README.md`, the dataset
card, and `phi.json`). An attempt writes them into its own hidden directory and renames it into place
only when complete and only while it still holds the release (curation.services.release_attempts),
so a build that dies half-way, or that a later attempt took over, leaves nothing that looks like a
release and never touches another attempt's files.
"""

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from audit.selectors import audit_chain_head
from audit.services import AuditAction, audit_record
from curation.formats.writers.card import dataset_card_render
from curation.formats.writers.releases import WRITERS, ExportScope, ReleaseWriter
from curation.models import EvaluationRound, Project, Release, ReleaseStatus
from curation.releases_definition import ReleaseDefinition
from curation.selectors.agreement import review_state_of
from curation.selectors.phi import phi_release_report
from curation.selectors.releases import release_scope
from curation.selectors.round_results import round_agreement
from curation.services.agreement import INLINE_LIMIT, project_agreement_get
from curation.services.database import read_transaction
from curation.services.release_attempts import (
    RELEASES_DIR,
    ReleaseSuperseded,
    attempt_directories_remove,
    attempt_directory,
    release_attempt_claim,
    release_directory,
    release_lease_final,
    release_lease_renew,
    releases_root,
)

logger = logging.getLogger(__name__)

CHUNK_SIZE = 2000
# The data file is written through a buffer of this size: with the default 8 KiB, 52,000 lines of a
# kilobyte or so cost 8,000 write calls (0.45 s against 0.3 s for the file, fsync included).
WRITE_BUFFER_BYTES = 1 << 20
# A build reports (and renews its lease) this often while it writes, outside a caller's transaction;
# inside one it reports when it publishes its files.
PROGRESS_EVERY_SECONDS = 0.5


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


# --- Writing ---


class _Progress:
    """Publishes rows written, and renews the attempt's lease, while the snapshot transaction is open.

    The build's own transaction cannot show progress to others until it commits, and on SQLite it
    must write nothing (read_transaction), so progress goes through a second, autocommit connection.
    That connection cannot see rows of a transaction the build was called inside (a test's, a
    caller's atomic block), so there the attempt reports only when it publishes. Every report is
    conditional on the attempt still holding the release and raises ReleaseSuperseded otherwise.
    """

    def __init__(self, release_id: int, attempt: int, *, live: bool) -> None:
        self.release_id, self.attempt = release_id, attempt
        self.side = connections.create_connection(DEFAULT_DB_ALIAS) if live else None
        self.last = 0.0
        self.written = self.total = 0

    def report(self, *, written: int | None = None, total: int | None = None, force: bool = False) -> None:
        """Report rows written of rows expected (the last figures when not given), at most every
        PROGRESS_EVERY_SECONDS unless `force`."""
        self.written = self.written if written is None else written
        self.total = self.total if total is None else total
        now = time.monotonic()
        if self.side is None or (not force and now - self.last < PROGRESS_EVERY_SECONDS):
            return
        self.last = now
        with self.side.cursor() as cursor:
            release_lease_renew(
                release_id=self.release_id,
                attempt=self.attempt,
                cursor=cursor,
                rows_written=self.written,
                rows_total=self.total,
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
    with open(data_path, "wb", buffering=WRITE_BUFFER_BYTES) as out:
        for line in writer.lines(scope):
            out.write(line)
            digest.update(line)
            rows += 1
            if on_line is not None:
                on_line(rows)
            progress.report(written=rows)
        out.flush()
        os.fsync(out.fileno())
    if writer.extension == "csv":
        rows -= 1  # the header row is not a data row
    return rows, total, digest.hexdigest()


def _card_stats(
    project: Project,
    scope: ExportScope,
    writer_streamed_tasks: bool,
    progress: _Progress,
    agreement: list[dict[str, Any]] | None,
) -> dict:
    """The card's counts: gathered while the rows streamed, or in one more streaming pass for review formats
    (which keeps the lease renewed, as it may take as long as the rows did)."""
    if not writer_streamed_tasks:
        for _ in scope.task_rows():
            progress.report()
    stats = scope.stats

    def by_count(counter) -> list[tuple[Any, int]]:
        return sorted(counter.items(), key=lambda item: (-item[1], str(item[0])))

    return {
        "tasks": stats.tasks,
        "without_output": stats.without_output,
        "left_out_without_output": scope.left_out_without_output,
        "held_back": scope.held_back,
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
        "agreement": agreement,
        "round_agreement": agreement_per_round_axis(rounds=scope.rounds),
        "pair_sources": stats.pair_sources,
        "rounds": scope.rounds,
        "round_axis": scope.round_axis,
    }


def _build_in_snapshot(release: Release, work_dir: Path, on_line: Callable[[int], None] | None) -> dict[str, Any]:
    """Write data and card into `work_dir` from one consistent read of the database; return the manifest.

    The reads share one transaction, so edits committed meanwhile cannot tear the release: on
    PostgreSQL REPEATABLE READ, on SQLite a read snapshot that keeps no writer waiting
    (read_transaction). When called inside an open transaction (a test, or a caller's own atomic
    block) the isolation level is already fixed and that transaction's view is used.

    The card's agreement figures are read (or computed, which writes) just before the snapshot.
    """
    writer = WRITERS[release.format]
    agreement = agreement_per_field(project=Project.objects.get(pk=release.project_id))
    live = not connection.in_atomic_block
    progress = _Progress(release.pk, release.attempts, live=live)
    try:
        with read_transaction():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    if live:
                        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    # The build reads every row of its cursors: plan them for the whole result, not
                    # (PostgreSQL's default for a cursor) for its first tenth, which favours walking a
                    # whole table in index order over reading the release's rows and sorting them.
                    cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")
                    # Compiling the gate's many joins took longer than running them (7.8 s of a 9.9 s
                    # count of 90,000 reviews at a million tasks); they are index lookups, not the
                    # long computations over many rows that JIT compilation pays off for.
                    cursor.execute("SET LOCAL jit = off")
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
            stats = _card_stats(project, scope, writer.streams_tasks, progress, agreement)
            manifest = {
                "row_count": rows,
                "rows_total": total,
                "sha256": sha256,
                "file_size": data_path.stat().st_size,
                "file_name": data_path.name,
                "schema_versions": [
                    {"id": s.pk, "name": s.name, "version": s.version, "target": s.target}
                    for s in scope.rating_schemas()
                ],
                "guidelines_version": project.guidelines_version,
            }
            manifest["phi"] = phi_release_report(project=project, task_ids=scope.tasks.values("pk"))
            # The audit trail's head as the build saw it: `audit_verify` can later show it was not rewritten.
            manifest["audit_chain_head"] = audit_chain_head()
            card = dataset_card_render(release=release, project=project, manifest=manifest, stats=stats)
            (work_dir / "README.md").write_text(card, encoding="utf-8")
            (work_dir / "phi.json").write_text(json.dumps(manifest["phi"], indent=1), encoding="utf-8")
            (work_dir / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
            manifest["card"] = card
            return manifest
    finally:
        progress.close()


# --- One attempt, start to finish ---


def release_build(*, release_id: int, on_line: Callable[[int], None] | None = None) -> Release:
    """Build a queued release, or take over one whose build stopped (its lease expired).

    A no-op for a release that is finished or held by a live attempt. A failure marks the release
    failed with the error and leaves no file in view; it can be retried with release_retry. An attempt
    taken over meanwhile stops at its next report and leaves the release to its successor. `on_line`
    is called after each line written (progress hooks, tests). Returns the release as it now is.
    """
    release = release_attempt_claim(release_id=release_id)
    if release is None:
        return Release.objects.get(pk=release_id)
    attempt = release.attempts
    releases_root().mkdir(parents=True, exist_ok=True)
    work_dir = attempt_directory(release.pk, attempt)
    shutil.rmtree(work_dir, ignore_errors=True)  # a restored database may number an attempt again
    work_dir.mkdir()
    try:
        manifest = _build_in_snapshot(release, work_dir, on_line)
        if not manifest["row_count"]:
            raise EmptyRelease("the definition gave no row when built (the data changed since it was defined)")
        return _publish(release, work_dir, manifest)
    except ReleaseSuperseded:
        logger.warning("Release %s: attempt %s was taken over after its lease expired; it stops", release.pk, attempt)
        shutil.rmtree(work_dir, ignore_errors=True)
        return Release.objects.get(pk=release_id)
    except Exception as exc:
        logger.exception("Release %s failed (attempt %s)", release.pk, attempt)
        shutil.rmtree(work_dir, ignore_errors=True)
        return _fail(release, f"{type(exc).__name__}: {exc}")


# Manifest entries recorded on the release as they are.
MANIFEST_FIELDS = ("row_count", "rows_total", "sha256", "file_size", "schema_versions", "guidelines_version", "card")


def _publish(claimed: Release, work_dir: Path, manifest: dict[str, Any]) -> Release:
    """Rename the attempt's files into place and record them, while it holds the release (or not at all)."""
    with release_lease_final(release_id=claimed.pk, attempt=claimed.attempts) as release:
        final_dir = release_directory(release)
        if final_dir.exists():
            # An earlier attempt renamed its files into place and died before its record committed.
            shutil.rmtree(final_dir)
        os.replace(work_dir, final_dir)
        for name in MANIFEST_FIELDS:
            setattr(release, name, manifest[name])
        release.status = ReleaseStatus.SUCCEEDED
        release.rows_written = manifest["row_count"]
        release.file_path = f"{RELEASES_DIR}/release-{release.pk}/{manifest['file_name']}"
        release.finished_at = release.heartbeat_at = timezone.now()
        release.leased_until = None
        release.save(
            update_fields=[
                *MANIFEST_FIELDS, "status", "rows_written", "file_path", "finished_at", "heartbeat_at", "leased_until"
            ]
        )  # fmt: skip
        attempt_directories_remove(release.pk)
        # On the worker there is no request: the release is built on behalf of the person who defined it.
        audit_record(
            action=AuditAction.RELEASE_BUILT,
            target=release,
            actor=release.created_by,
            after={
                "attempt": claimed.attempts,
                "file": release.file_path,
                "row_count": release.row_count,
                "sha256": release.sha256,
                "redactions": len(manifest["phi"]["redactions"]),
                "audit_chain_head": manifest["audit_chain_head"],
            },
        )
        return release


def _fail(claimed: Release, error: str) -> Release:
    """Mark the release failed, if the attempt still holds it; a superseded attempt leaves it as it is."""
    try:
        with release_lease_final(release_id=claimed.pk, attempt=claimed.attempts) as release:
            release.status = ReleaseStatus.FAILED
            release.error = error[:2000]
            release.finished_at = timezone.now()
            release.leased_until = None
            release.save(update_fields=["status", "error", "finished_at", "leased_until"])
            attempt_directories_remove(release.pk)
            return release
    except ReleaseSuperseded:
        return Release.objects.get(pk=claimed.pk)
