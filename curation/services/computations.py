"""Computations that read a whole project (agreement, disagreements, round results), run by a worker.

A request never computes one: it reads the last result (curation.selectors.computations) and, when
there is none yet or a curator asks, queues a run here. A run claims the computation, asks the
feature's function for the result, and stores it with the version of the data it read first; a failed
run keeps the previous result and records why.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from curation.models import Computation, ComputationKind, ComputationStatus, Project
from curation.selectors.computations import computation_is_running

logger = logging.getLogger(__name__)

# The feature function that computes each kind: (computation=, run=) -> ComputationOutcome. Named, not
# imported, because those features queue their computations through this module.
COMPUTERS = {
    ComputationKind.AGREEMENT: "curation.services.agreement.project_agreement_run",
    ComputationKind.DISAGREEMENTS: "curation.services.disagreements.disputed_items_run",
    ComputationKind.ROUND_RESULTS: "curation.services.round_results.round_results_run",
}


@dataclass
class ComputationOutcome:
    """What a feature's function hands back: the version of the data it read (read before anything
    else, so a review arriving meanwhile leaves the result stale), the result, the dashboard's
    summary of it and what its page shows by default (Computation.page), and what to do once the
    result is the one shown (drop the previous run's rows)."""

    data_version: str
    result: Any = None
    summary: dict = field(default_factory=dict)
    page: Any = None
    after_publish: Callable[[], None] | None = None


def _queue(*, project: Project, kind: str, subject_id: int) -> tuple[Computation, bool]:
    """Mark the computation queued, unless a run is already queued or running; whether it was marked."""
    with transaction.atomic():
        computation, _ = Computation.objects.select_for_update().get_or_create(
            project=project, kind=kind, subject_id=subject_id
        )
        if computation_is_running(computation):
            return computation, False
        computation.status = ComputationStatus.QUEUED
        computation.queued_at = timezone.now()
        computation.started_at = None
        computation.error = ""
        computation.save(update_fields=["status", "queued_at", "started_at", "error"])
    return computation, True


def computation_request(*, project: Project, kind: str, subject_id: int = 0) -> Computation:
    """Queue a run of the computation for a worker, unless one is already queued or running (then
    nothing changes). The worker is asked once the caller's transaction commits."""
    from curation.jobs import computation_run_task  # jobs call this module: a real cycle

    computation, queued = _queue(project=project, kind=kind, subject_id=subject_id)
    if queued:
        transaction.on_commit(partial(computation_run_task.delay, computation.pk))
    return computation


def computation_mark_changed(*, project_id: int, kind: str, subject_id: int = 0) -> None:
    """Something the result depends on changed without a new review (a flag cleared, a rule changed):
    the shown result is stale from now on. One UPDATE of one row; no run is queued."""
    from django.db.models import F

    Computation.objects.filter(project_id=project_id, kind=kind, subject_id=subject_id).update(changes=F("changes") + 1)


def computation_run(*, computation_id: int) -> Computation | None:
    """Run a queued computation (or one whose worker died) and publish its result; a computation
    another worker is running, or that nobody queued, is left alone (a redelivered job is harmless)."""
    with transaction.atomic():
        computation = Computation.objects.select_for_update().filter(pk=computation_id).first()
        if computation is None:
            return None
        lost = computation.status == ComputationStatus.RUNNING and not computation_is_running(computation)
        if computation.status != ComputationStatus.QUEUED and not lost:
            return computation
        computation.status = ComputationStatus.RUNNING
        computation.started_at = timezone.now()
        computation.runs += 1
        computation.save(update_fields=["status", "started_at", "runs"])
    run = computation.runs
    compute = import_string(COMPUTERS[computation.kind])
    try:
        outcome: ComputationOutcome = compute(computation=computation, run=run)
    except Exception as exc:
        logger.exception("Computation %s (%s) failed", computation.pk, computation.kind)
        Computation.objects.filter(pk=computation.pk, runs=run).update(
            status=ComputationStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    return _publish(computation.pk, run, outcome)


def _publish(computation_id: int, run: int, outcome: ComputationOutcome) -> Computation:
    with transaction.atomic():
        computation = Computation.objects.select_for_update().get(pk=computation_id)
        fields = []
        if run > computation.generation:  # a later run published first: its result stays
            computation.generation = run
            computation.result = outcome.result
            computation.summary = outcome.summary
            computation.page = outcome.page
            computation.computed_at = timezone.now()
            computation.data_version = outcome.data_version
            fields += ["generation", "result", "summary", "page", "computed_at", "data_version"]
        if computation.runs == run and computation.status == ComputationStatus.RUNNING:
            computation.status = ComputationStatus.IDLE
            computation.error = ""
            fields += ["status", "error"]
        computation.save(update_fields=fields)
    if outcome.after_publish is not None:
        outcome.after_publish()
    return computation


def computation_refresh(*, project: Project, kind: str, subject_id: int = 0) -> Computation:
    """Run a computation now, in this process, and publish it: the CLI's, the benchmark's and the
    tests' way to a current result. Not for requests. A run another process has started is left to it
    unless its lease ran out; this one runs anyway and the later run's result is the one shown."""
    computation, _ = _queue(project=project, kind=kind, subject_id=subject_id)
    Computation.objects.filter(pk=computation.pk).update(status=ComputationStatus.QUEUED)
    return computation_run(computation_id=computation.pk)
