"""A round's results, computed by a worker (curation.services.computations) and shown with their age.

The results read every judgment of the round and bootstrap their intervals (a second or two for a few
hundred prompts), so no request computes them: the page, the API and the CSV show the last results,
and a run is queued when there are none yet or judgments arrived since (a round is bounded, so its
results follow the judging without a curator asking). The round's definition and progress are read
fresh with every request (round_results_header).
"""

from typing import Any

from django.utils import timezone

from curation.models import Computation, ComputationKind, ComputationStatus, EvaluationRound, Judgment
from curation.selectors.computations import (
    COMPUTATION_LEASE,
    LatestResult,
    computation_is_running,
    computation_of,
    latest_result,
)
from curation.selectors.round_results import round_results, round_results_header
from curation.services.computations import ComputationOutcome, computation_refresh, computation_request

KIND = ComputationKind.ROUND_RESULTS


def round_results_data_version(*, evaluation_round: EvaluationRound) -> str:
    """Judgments are never edited or removed: the latest one's id says whether results are current."""
    latest = Judgment.objects.filter(round=evaluation_round).order_by("-id").values_list("id", flat=True).first()
    return f"judgments:{latest or 0}"


def round_results_run(*, computation: Computation, run: int) -> ComputationOutcome:
    """The worker's computation of one round's results."""
    evaluation_round = EvaluationRound.objects.get(pk=computation.subject_id, project_id=computation.project_id)
    version = round_results_data_version(evaluation_round=evaluation_round)
    return ComputationOutcome(data_version=version, result=round_results(evaluation_round=evaluation_round))


def round_results_latest(*, evaluation_round: EvaluationRound) -> LatestResult:
    """The last results with their age, the header read now; a run is queued when there are none or
    judgments arrived since, unless one is on its way. `result` is None until the first run is published."""
    subject = {"project": evaluation_round.project, "kind": KIND, "subject_id": evaluation_round.pk}
    version = round_results_data_version(evaluation_round=evaluation_round)
    computation = computation_of(**subject)
    behind = computation is None or computation.data_version != version or computation.computed_at is None
    if behind and not computation_is_running(computation) and not _failed_lately(computation):
        computation = computation_request(**subject)
        computation.refresh_from_db()  # a worker that runs jobs at once (eager) has published it already
    latest = latest_result(computation, data_version=version)
    if latest.result is not None:
        latest.result = {**latest.result, **round_results_header(evaluation_round)}
    return latest


def _failed_lately(computation: Computation | None) -> bool:
    """A run that failed is tried again by a visit at most once a lease (COMPUTATION_LEASE), not by every one."""
    if computation is None or computation.status != ComputationStatus.FAILED or computation.queued_at is None:
        return False
    return timezone.now() - computation.queued_at < COMPUTATION_LEASE


def round_results_refresh(*, evaluation_round: EvaluationRound) -> dict[str, Any]:
    """Compute a round's results now, in this process, and publish them (CLI, benchmark, tests)."""
    computation = computation_refresh(project=evaluation_round.project, kind=KIND, subject_id=evaluation_round.pk)
    return {**computation.result, **round_results_header(evaluation_round)}
