"""Each rater against the others, and agreement within slices of the units."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from curation.stats.agreement.bootstrap import (
    CONFIDENCE,
    DRAWS,
    OUTLIER_ALPHA_GAIN,
    OUTLIER_MIN_UNITS,
    SEED,
    StatFn,
    _clean,
    _divide,
    _estimate,
    _jsonable,
    _Prepared,
    _run,
    _wsum,
)
from curation.stats.agreement.coefficients import _check, alpha
from curation.stats.agreement.report import agreement_report
from curation.stats.lazy import lazy_module

# numpy and scipy load at the first computation, not at every process start (curation.stats.lazy).
np = lazy_module("numpy")


def rater_breakdown(
    matrix: np.ndarray,
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
    x = np.asarray(matrix, dtype=float)
    prep = _Prepared(x, level)
    _check(draws, confidence)
    names = list(raters) if raters is not None else list(range(prep.n_raters))
    overall = alpha(x, level, draws=0)["value"]
    stats, counted = _rater_statistics(prep, level)
    point, boot = _run(prep, stats, draws, seed, cells_per_draw=prep.n_raters)
    result = []
    for r in range(prep.n_raters):
        without = alpha(np.delete(x, r, axis=1), level, draws=0) if prep.n_raters > 2 else None
        undefined = "shares no unit with another rater" if counted[r] == 0 else None
        without_value = without["value"] if without else None
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


def _rater_statistics(prep: _Prepared, level: str) -> tuple[list[StatFn], list[int]]:
    """Per rater, the statistic giving their match rate and mean distance from the others on shared units,
    and how many such units they have."""
    stats: list[StatFn] = []
    counted: list[int] = []
    steps = prep.values if level != "nominal" else np.arange(prep.k, dtype=float)
    for r in range(prep.n_raters):
        mine = prep.observed[:, r] & prep.pairable
        rows = np.flatnonzero(mine)
        counted.append(int(rows.size))
        code = prep.codes[rows, r]
        others = prep.m[rows] - 1
        match = np.zeros(prep.n)
        match[rows] = (prep.counts[rows, code] - 1) / others
        distance = np.zeros(prep.n)
        distance[rows] = (prep.counts[rows] * np.abs(steps[code][:, None] - steps[None, :])).sum(axis=1) / others
        indicator = mine.astype(float)

        def fn(w, r=r, match=match, distance=distance, indicator=indicator):
            units = _wsum(indicator, w)
            return {
                f"match:{r}": _divide(_wsum(match, w), units, tol=0.5),
                f"distance:{r}": _divide(_wsum(distance, w), units, tol=0.5),
            }

        stats.append(fn)
    return stats, counted


def slice_breakdown(
    matrix: np.ndarray,
    slices: Sequence[Hashable],
    level: str = "nominal",
    *,
    draws: int = DRAWS,
    seed: int = SEED,
    confidence: float = CONFIDENCE,
) -> list[dict]:
    """Alpha and percent agreement (and AC1 for nominal) within each slice; `slices[i]` labels unit i.

    Slices come back largest first; units without a label fall in the slice None.
    """
    x = np.asarray(matrix, dtype=float)
    if len(slices) != x.shape[0]:
        raise ValueError(f"{len(slices)} slice labels for {x.shape[0]} units")
    groups: dict[Hashable, list[int]] = {}
    for i, label in enumerate(slices):
        groups.setdefault(label, []).append(i)
    out = []
    for label, rows in groups.items():
        report = agreement_report(x[rows], level, draws=draws, seed=seed, confidence=confidence, pairs=False)
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
