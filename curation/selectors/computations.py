"""Reads of whole-project computations (agreement, disagreements, round results): the last result, its
age, and whether the data changed since. Nothing here computes or queues; curation.services.computations does.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from curation.models import Computation, ComputationStatus, Project

# A computation queued or started longer ago than this is taken as lost (its worker died): the page
# says so and lets a curator queue it again. The largest projects' agreement takes minutes, not hours.
COMPUTATION_LEASE = timedelta(hours=1)


def computation_of(
    *, project: Project, kind: str, subject_id: int = 0, without: tuple[str, ...] = (), result_as_text: bool = False
) -> Computation | None:
    """The computation, without the columns named in `without` (a large result a page does not show: reading
    one would load it); with `result_as_text`, its result as the JSON text stored too (`result_text`), for
    an answer that passes it on undecoded."""
    computations = Computation.objects.filter(project=project, kind=kind, subject_id=subject_id)
    if without:
        computations = computations.defer(*without)
    if result_as_text:
        computations = computations.annotate(result_text=Cast("result", TextField()))
    return computations.first()


def computation_result(computation: Computation) -> Any:
    """The result of a computation read without it (computation_of's `without`), in one query of that column."""
    return Computation.objects.filter(pk=computation.pk).values_list("result", flat=True).first()


def computation_is_running(computation: Computation | None, *, now: datetime | None = None) -> bool:
    """Queued or running, and not so long ago that its worker must have died."""
    if computation is None or computation.status not in (ComputationStatus.QUEUED, ComputationStatus.RUNNING):
        return False
    since = computation.started_at if computation.status == ComputationStatus.RUNNING else computation.queued_at
    return since is not None and (now or timezone.now()) - since < COMPUTATION_LEASE


@dataclass
class LatestResult:
    """What a page shows of a computation: the last result (None if never computed), when it was
    computed, whether the data changed since (`stale`), whether a new one is on its way, and why the
    last attempt failed, if it did."""

    result: Any
    computed_at: datetime | None
    stale: bool
    computing: bool
    error: str
    computation: Computation | None

    @property
    def ready(self) -> bool:
        return self.computed_at is not None

    @property
    def current(self) -> bool:
        return self.ready and not self.stale


def latest_result(computation: Computation | None, *, data_version: str, shown: str = "result") -> LatestResult:
    """The page's view of `computation` against the data as it is now (`data_version`, which the
    feature reads from its indexes: a latest id, never a scan). Its `result` is the computation's
    attribute `shown`: "result", or what the page reads instead ("page", a `result_text`)."""
    if computation is None:
        return LatestResult(None, None, False, False, "", None)
    computed = computation.computed_at is not None
    return LatestResult(
        result=getattr(computation, shown) if computed else None,
        computed_at=computation.computed_at,
        stale=computed and computation.data_version != data_version,
        computing=computation_is_running(computation),
        error=computation.error if computation.status == ComputationStatus.FAILED else "",
        computation=computation,
    )
