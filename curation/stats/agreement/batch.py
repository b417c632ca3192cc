"""Several reports computed together, each bootstrap's weights generated once for all that use them."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

from curation.stats.agreement.bootstrap import (
    CONFIDENCE,
    DRAWS,
    OUTLIER_ALPHA_GAIN,
    OUTLIER_MIN_UNITS,
    SEED,
    RatingsTable,
    _as_table,
    _Job,
    _run_jobs,
    _Source,
)
from curation.stats.agreement.breakdowns import _rater_job, _slice_jobs
from curation.stats.agreement.coefficients import _check
from curation.stats.agreement.report import _report_job
from curation.stats.lazy import lazy_module

# numpy and scipy load at the first computation, not at every process start (curation.stats.lazy).
np = lazy_module("numpy")


class AgreementBatch:
    """Reports asked for one by one and computed together by `run()`, each the same as its single call
    (`agreement_report`, `rater_breakdown`, `slice_breakdown`) with the batch's draws, seed and confidence.

    A bootstrap's draws depend only on the number of units (with the seed and the number of draws), and
    generating them is most of a report's work over many units. Reports over the same units (the fields
    of a form, each field's per-rater breakdown, slices of the same size) share one generation here
    instead of one each. Arguments are checked when a report is asked for; each method returns a
    function giving the report once the batch has run.
    """

    def __init__(self, *, draws: int = DRAWS, seed: int = SEED, confidence: float = CONFIDENCE):
        _check(draws, confidence)
        self.draws, self.seed, self.confidence = draws, seed, confidence
        self._jobs: list[_Job] = []

    def agreement_report(
        self,
        ratings: np.ndarray | RatingsTable,
        level: str = "nominal",
        *,
        raters: Sequence[Hashable] | None = None,
        n_categories: int | None = None,
        pairs: bool = True,
        max_pairs: int | None = None,
    ) -> Callable[[], dict]:
        job = _report_job(
            _Source.of(_as_table(ratings, level)),
            level,
            raters=raters,
            n_categories=n_categories,
            draws=self.draws,
            seed=self.seed,
            confidence=self.confidence,
            pairs=pairs,
            max_pairs=max_pairs,
        )
        return self._add([job], lambda: job.result)

    def rater_breakdown(
        self,
        ratings: np.ndarray | RatingsTable,
        level: str = "nominal",
        *,
        raters: Sequence[Hashable] | None = None,
        outlier_gain: float = OUTLIER_ALPHA_GAIN,
        outlier_min_units: int = OUTLIER_MIN_UNITS,
    ) -> Callable[[], list[dict]]:
        job = _rater_job(
            _Source.of(_as_table(ratings, level)),
            level,
            raters=raters,
            draws=self.draws,
            confidence=self.confidence,
            outlier_gain=outlier_gain,
            outlier_min_units=outlier_min_units,
        )
        return self._add([job], lambda: job.result)

    def slice_breakdown(
        self, ratings: np.ndarray | RatingsTable, slices: Sequence[Hashable] | np.ndarray, level: str = "nominal"
    ) -> Callable[[], list[dict]]:
        jobs, finish = _slice_jobs(ratings, slices, level, draws=self.draws, seed=self.seed, confidence=self.confidence)
        return self._add(jobs, finish)

    def run(self) -> None:
        """Compute every report asked for (those over the same units together); then their functions
        give them."""
        _run_jobs(self._jobs, self.draws, self.seed)
        self._jobs = []

    def _add(self, jobs: list[_Job], result: Callable):
        self._jobs += jobs

        def get():
            if any(job.result is None for job in jobs):
                raise RuntimeError("the batch has not run since this report was asked for: call run() first")
            return result()

        return get
