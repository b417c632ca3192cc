"""Each rater against the others, and agreement within slices of the units."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

from curation.stats.agreement.bootstrap import (
    CONFIDENCE,
    DRAWS,
    OUTLIER_ALPHA_GAIN,
    OUTLIER_MIN_UNITS,
    SEED,
    RatingsTable,
    StatFn,
    _as_table,
    _chunk,
    _clean,
    _divide,
    _estimate,
    _first_seen,
    _Job,
    _jsonable,
    _Prepared,
    _prepared,
    _run_jobs,
    _Source,
    _wsum,
)
from curation.stats.agreement.coefficients import _alpha, _check, _common_undefined, alpha_without_each
from curation.stats.agreement.report import _report_job
from curation.stats.lazy import lazy_module

# numpy and scipy load at the first computation, not at every process start (curation.stats.lazy).
np = lazy_module("numpy")
sparse = lazy_module("scipy.sparse")


def rater_breakdown(
    matrix: np.ndarray | RatingsTable,
    level: str = "nominal",
    *,
    raters: Sequence[Hashable] | None = None,
    draws: int = DRAWS,
    seed: int = SEED,
    confidence: float = CONFIDENCE,
    outlier_gain: float = OUTLIER_ALPHA_GAIN,
    outlier_min_units: int = OUTLIER_MIN_UNITS,
) -> list[dict]:
    """Each rater against the others: how often they match the others on shared units (with CI), how
    far their value lies from the others' on average (in scale steps), and alpha without them.

    A rater is an outlier when they share at least `outlier_min_units` units with other raters and
    leaving them out raises alpha by `outlier_gain` or more.
    """
    job = _rater_job(
        _Source.of(_as_table(matrix, level)),
        level,
        raters=raters,
        draws=draws,
        confidence=confidence,
        outlier_gain=outlier_gain,
        outlier_min_units=outlier_min_units,
    )
    _run_jobs([job], draws, seed)
    return job.result  # type: ignore[return-value]


def _rater_job(
    source: _Source,
    level: str,
    *,
    raters: Sequence[Hashable] | None,
    draws: int,
    confidence: float,
    outlier_gain: float,
    outlier_min_units: int,
) -> _Job:
    """`rater_breakdown` as a job to run with others, its arguments checked now."""
    _check(draws, confidence)
    names = list(raters) if raters is not None else list(range(source.n_raters))

    def build(shared: dict):
        prep = _prepared(shared, source.table(), level)
        overall = _alpha_value(
            _alpha(prep)(np.ones((prep.n, 1)))["alpha"][0], _common_undefined(prep) is not None or prep.k < 2
        )
        stats, counted = _rater_statistics(prep, level)
        without_each = alpha_without_each(prep) if prep.n_raters > 2 else None

        n_raters = prep.n_raters

        def finish(point: dict, boot: dict) -> list[dict]:
            result = []
            for r in range(n_raters):
                undefined = "shares no unit with another rater" if counted[r] == 0 else None
                without_value = _alpha_value(without_each[r]) if without_each is not None else None
                gain = without_value - overall if without_value is not None and overall is not None else None
                result.append(
                    {
                        "rater": _jsonable(names[r]),
                        "n_units": counted[r],
                        "agreement_with_others": _estimate(
                            point[f"match:{r}"], boot[f"match:{r}"], counted[r], confidence, undefined
                        ).as_dict(),
                        "mean_distance_from_others": _estimate(
                            point[f"distance:{r}"], boot[f"distance:{r}"], counted[r], confidence, undefined
                        ).as_dict(),
                        "alpha_without": without_value,
                        "alpha_gain_without": _clean(gain),
                        "outlier": gain is not None and gain >= outlier_gain and counted[r] >= outlier_min_units,
                    }
                )
            return result

        return stats, finish

    # Its statistics hold three sparse raters x units matrices, an entry per pairable rating.
    return _Job(source.n_units, _chunk(source.n_units, source.n_raters), 40 * source.n_ratings, build)


def _alpha_value(value: float, undefined: bool = False) -> float | None:
    """Alpha as `alpha()` reports it: rounded, None when undefined or not finite."""
    return None if undefined else _clean(value)


def _rater_statistics(prep: _Prepared, level: str) -> tuple[list[StatFn], list[int]]:
    """The statistic giving each rater's match rate and mean distance from the others on the units they
    share, and how many such units each has. Each rater's figures are sums over their own ratings only:
    three raters x units sparse matrices, so the work grows with the ratings, not raters x units."""
    steps = prep.values if level != "nominal" else np.arange(prep.k, dtype=float)
    counted: list[int] = []
    rows_of, match_of, distance_of = [], [], []
    for r in range(prep.n_raters):
        units, codes = prep.rated_by(r)
        mine = prep.pairable[units]
        rows, code = units[mine], codes[mine]
        counted.append(int(rows.size))
        others = prep.m[rows] - 1
        rows_of.append(rows)
        match_of.append((prep.counts[rows, code] - 1) / others)
        distance_of.append((prep.counts[rows] * np.abs(steps[code][:, None] - steps[None, :])).sum(axis=1) / others)
    ptr = np.concatenate([[0], np.cumsum(counted)]).astype(np.int64)
    columns = np.concatenate(rows_of) if rows_of else np.zeros(0, dtype=np.int64)

    def by_rater(data: list[np.ndarray]) -> sparse.csr_matrix:
        values = np.concatenate(data) if data else np.zeros(0)
        return sparse.csr_matrix((values, columns, ptr), shape=(prep.n_raters, prep.n))

    indicator, match, distance = (
        by_rater([np.ones(len(rows)) for rows in rows_of]),
        by_rater(match_of),
        by_rater(distance_of),
    )

    n_units, n_raters = prep.n, prep.n_raters  # the statistic keeps these, not `prep`

    def sums(matrix: sparse.csr_matrix, w: np.ndarray) -> np.ndarray:
        """Each rater's weighted sum: the sparse product adds a rater's terms in unit order, as the
        einsum of `_wsum` does over many draws; over one column einsum adds them in another order, so
        there each rater's dense vector goes through `_wsum` itself and the sums stay the same."""
        if w.shape[1] > 1:
            return np.asarray(matrix @ w)
        dense, out = np.zeros(n_units), np.empty((n_raters, 1))
        for r in range(n_raters):
            span = slice(matrix.indptr[r], matrix.indptr[r + 1])
            dense[matrix.indices[span]] = matrix.data[span]
            out[r] = _wsum(dense, w)
            dense[matrix.indices[span]] = 0.0
        return out

    def fn(w):
        units = sums(indicator, w)
        matches = _divide(sums(match, w), units, tol=0.5)
        distances = _divide(sums(distance, w), units, tol=0.5)
        out = {}
        for r in range(n_raters):
            out[f"match:{r}"] = matches[r]
            out[f"distance:{r}"] = distances[r]
        return out

    return [fn], counted


def slice_breakdown(
    matrix: np.ndarray | RatingsTable,
    slices: Sequence[Hashable] | np.ndarray,
    level: str = "nominal",
    *,
    draws: int = DRAWS,
    seed: int = SEED,
    confidence: float = CONFIDENCE,
) -> list[dict]:
    """Alpha and percent agreement (and AC1 for nominal) within each slice; `slices[i]` labels unit i
    (an array of labels is grouped without a Python loop over units).

    Slices come back largest first; units without a label fall in the slice None.
    """
    jobs, finish = _slice_jobs(matrix, slices, level, draws=draws, seed=seed, confidence=confidence)
    _run_jobs(jobs, draws, seed)
    return finish()


def _slice_jobs(
    matrix: np.ndarray | RatingsTable,
    slices: Sequence[Hashable] | np.ndarray,
    level: str,
    *,
    draws: int,
    seed: int,
    confidence: float,
) -> tuple[list[_Job], Callable[[], list[dict]]]:
    """`slice_breakdown` as one job per slice to run with others, and what gathers their results."""
    if not isinstance(matrix, RatingsTable):
        matrix = np.asarray(matrix, dtype=float)
    n_rows = len(matrix.units) if isinstance(matrix, RatingsTable) else matrix.shape[0]
    if len(slices) != n_rows:
        raise ValueError(f"{len(slices)} slice labels for {n_rows} units")
    labels, group = _groups(slices)
    if not labels:
        return [], list
    table = _as_table(matrix, level)
    # Each slice is the units labelled with it, numbered in their order in the table (as rows of x[rows]).
    # The jobs keep these two per-unit arrays (small integers) until they run; a slice's ratings are
    # found when its job runs.
    index = np.int32 if len(group) < 2**31 else np.int64
    sizes = np.bincount(group, minlength=len(labels))
    position = np.empty(len(group), dtype=index)
    position[np.argsort(group, kind="stable")] = np.arange(len(group)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    group = group.astype(index)
    rated = np.bincount(group[np.unique(table.unit_index)], minlength=len(labels))
    ratings_in = np.bincount(group[table.unit_index], minlength=len(labels))
    k = int(np.unique(table.values).size)
    jobs = []
    for g in range(len(labels)):

        def part(g: int = g) -> RatingsTable:
            mine = np.flatnonzero(group[table.unit_index] == g)
            return RatingsTable(
                range(int(sizes[g])),
                table.raters,
                None,
                position[table.unit_index[mine]],
                table.rater_index[mine],
                table.values[mine],
            )

        # The distinct values of a slice matter for its chunk of draws only when their square outnumbers
        # its units; otherwise the table's own bound them.
        n_values = k if k * k <= rated[g] else int(np.unique(part().values).size)
        source = _Source(part, int(rated[g]), n_values, len(table.raters), int(ratings_in[g]))
        jobs.append(
            _report_job(
                source,
                level,
                raters=None,
                n_categories=None,
                draws=draws,
                seed=seed,
                confidence=confidence,
                pairs=False,
                max_pairs=None,
            )
        )

    def finish() -> list[dict]:
        out = []
        for label, job in zip(labels, jobs, strict=True):
            report = job.result
            entry = {
                "slice": _jsonable(label),
                "n_units": report["n_units"],
                "alpha": report["alpha"],
                "percent_agreement": report["percent_agreement"],
            }
            if level == "nominal":
                entry["gwet_ac1"] = report["gwet_ac1"]
            out.append(entry)
        out.sort(key=lambda e: (-e["n_units"], str(e["slice"])))
        return out

    return jobs, finish


def _groups(slices: Sequence[Hashable] | np.ndarray) -> tuple[list[Hashable], np.ndarray]:
    """The distinct labels in the order they first appear, and each unit's position among them."""
    if isinstance(slices, np.ndarray):
        distinct, group = _first_seen(slices)
        return distinct.tolist(), group
    seen: dict[Hashable, int] = {}
    group = np.array([seen.setdefault(label, len(seen)) for label in slices], dtype=np.int64)
    return list(seen), group
