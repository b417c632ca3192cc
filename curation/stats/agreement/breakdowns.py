"""Each rater against the others, and agreement within slices of the units."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from curation.stats.agreement.bootstrap import (
    CONFIDENCE,
    DRAWS,
    OUTLIER_ALPHA_GAIN,
    OUTLIER_MIN_UNITS,
    SEED,
    RatingsTable,
    StatFn,
    _clean,
    _divide,
    _estimate,
    _jsonable,
    _Prepared,
    _run,
    _wsum,
)
from curation.stats.agreement.coefficients import _alpha, _check, _common_undefined, alpha_without_each
from curation.stats.agreement.report import agreement_report
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
    prep = _Prepared(matrix, level)
    _check(draws, confidence)
    names = list(raters) if raters is not None else list(range(prep.n_raters))
    overall = _alpha_value(
        _alpha(prep)(np.ones((prep.n, 1)))["alpha"][0], _common_undefined(prep) is not None or prep.k < 2
    )
    stats, counted = _rater_statistics(prep, level)
    point, boot = _run(prep, stats, draws, seed, cells_per_draw=prep.n_raters)
    without_each = alpha_without_each(prep) if prep.n_raters > 2 else None
    result = []
    for r in range(prep.n_raters):
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

    def sums(matrix: sparse.csr_matrix, w: np.ndarray) -> np.ndarray:
        """Each rater's weighted sum: the sparse product adds a rater's terms in unit order, as the
        einsum of `_wsum` does over many draws; over one column einsum adds them in another order, so
        there each rater's dense vector goes through `_wsum` itself and the sums stay the same."""
        if w.shape[1] > 1:
            return np.asarray(matrix @ w)
        dense, out = np.zeros(prep.n), np.empty((prep.n_raters, 1))
        for r in range(prep.n_raters):
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
        for r in range(prep.n_raters):
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
    table = matrix if isinstance(matrix, RatingsTable) else _table_of(np.asarray(matrix, dtype=float))
    if len(slices) != len(table.units):
        raise ValueError(f"{len(slices)} slice labels for {len(table.units)} units")
    labels, group = _groups(slices)
    # Each slice's ratings, its units numbered in their order in the table (as the rows of x[rows]).
    group_of_rating = group[table.unit_index]
    order = np.argsort(group_of_rating, kind="stable")
    bounds = np.searchsorted(group_of_rating[order], np.arange(len(labels) + 1))
    unit_order = np.argsort(group, kind="stable")
    position = np.empty(len(group), dtype=np.int64)
    sizes = np.bincount(group, minlength=len(labels))
    position[unit_order] = np.arange(len(group)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    out = []
    for g, label in enumerate(labels):
        mine = order[bounds[g] : bounds[g + 1]]
        part = RatingsTable(
            range(int(sizes[g])),
            table.raters,
            None,
            position[table.unit_index[mine]],
            table.rater_index[mine],
            table.values[mine],
        )
        report = agreement_report(part, level, draws=draws, seed=seed, confidence=confidence, pairs=False)
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


def _table_of(x: np.ndarray) -> RatingsTable:
    if x.ndim != 2:
        raise ValueError("ratings must be a units x raters matrix")
    unit, rater = np.nonzero(~np.isnan(x))
    return RatingsTable(range(x.shape[0]), range(x.shape[1]), None, unit, rater, x[unit, rater])


def _groups(slices: Sequence[Hashable] | np.ndarray) -> tuple[list[Hashable], np.ndarray]:
    """The distinct labels in the order they first appear, and each unit's position among them."""
    if isinstance(slices, np.ndarray):
        distinct, first, inverse = np.unique(slices, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        rank = np.empty(distinct.size, dtype=np.int64)
        rank[order] = np.arange(distinct.size)
        return distinct[order].tolist(), rank[inverse.ravel()]
    seen: dict[Hashable, int] = {}
    group = np.array([seen.setdefault(label, len(seen)) for label in slices], dtype=np.int64)
    return list(seen), group
