"""Inter-rater agreement with bootstrap confidence intervals, vectorised over units and draws.

Input is a units x raters matrix of numbers with NaN for "not rated" (`ratings_from_rows` builds one
from long `(unit, rater, value)` rows, coding text labels in a given order). Every coefficient is a
function of per-unit sufficient statistics (value counts, sums, coincidences), so a bootstrap draw
is a vector of unit weights (how often each unit was drawn) and all draws of a coefficient are a
handful of matrix products: no Python loop over draws or units.

Coefficients and their conventions:

- Krippendorff's alpha at the nominal, ordinal, interval and ratio levels (Krippendorff 2011,
  "Computing Krippendorff's Alpha-Reliability"); only units with two or more ratings count.
- Percent agreement: per unit, the share of ordered pairs of ratings that agree, averaged over
  units with two or more ratings (the "pa" of Gwet's AC1).
- Fleiss' kappa: only when every unit with two or more ratings has the same number of them.
- Gwet's AC1 (nominal): chance agreement from category shares averaged over every rated unit.
- Cohen's kappa per pair of raters over the units both rated: unweighted, and linearly or
  quadratically weighted by category rank (as scikit-learn weights label positions).

The bootstrap resamples units (every unit with at least one rating) with a fixed seed and reports
the percentile interval. A value that cannot be computed is `value=None` with the reason in
`undefined`; NaN never leaves this module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy import sparse

LEVELS = ("nominal", "ordinal", "interval", "ratio")
SEED = 20110101
DRAWS = 1000
CONFIDENCE = 0.95
# A draw chunk holds chunk x units weights and chunk x categories^2 coincidences; this bounds both.
_CELLS_PER_CHUNK = 20_000_000
_MAX_CHUNK = 250
# A CI needs most draws to be defined; below this share it is not reported.
_MIN_DEFINED_DRAWS = 0.5
OUTLIER_ALPHA_GAIN = 0.05
# Leaving out a reviewer of one or two items can move alpha a lot by chance: too few to call them an outlier.
OUTLIER_MIN_UNITS = 10

TOO_FEW_UNITS = "fewer than two units have two or more ratings"
NO_VARIATION = "every rating has the same value, so there is no variation to agree on"

StatFn = Callable[[np.ndarray], dict[str, np.ndarray]]


@dataclass(frozen=True)
class Estimate:
    """A coefficient with its bootstrap interval; `value` is None exactly when `undefined` says why."""

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    n_units: int = 0
    undefined: str | None = None

    def as_dict(self) -> dict:
        return {
            "value": _clean(self.value),
            "ci_low": _clean(self.ci_low),
            "ci_high": _clean(self.ci_high),
            "n_units": self.n_units,
            "undefined": self.undefined,
        }


def _clean(x: float | None) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), 6)


@dataclass(frozen=True)
class RatingsTable:
    """A units x raters matrix built from long rows, with the labels of its rows, columns and codes."""

    matrix: np.ndarray
    units: list[Hashable]
    raters: list[Hashable]
    categories: list[Hashable] | None  # the label of code k, when values were coded


def ratings_from_rows(
    rows: Iterable[tuple[Hashable, Hashable, object]], *, order: Sequence[Hashable] | None = None
) -> RatingsTable:
    """Rows `(unit, rater, value)` to a matrix. With `order`, values are coded by their position in it
    (so ordinal labels keep their order); without, values must be numbers. None values are skipped.

    Raises ValueError when a rater rates a unit twice or a value is not in `order`.
    """
    units: dict[Hashable, int] = {}
    raters: dict[Hashable, int] = {}
    cells: dict[tuple[int, int], float] = {}
    codes = {label: float(i) for i, label in enumerate(order)} if order is not None else None
    for unit, rater, value in rows:
        if value is None:
            continue
        u = units.setdefault(unit, len(units))
        r = raters.setdefault(rater, len(raters))
        if (u, r) in cells:
            raise ValueError(f"rater {rater!r} rated unit {unit!r} more than once")
        if codes is not None:
            if value not in codes:
                raise ValueError(f"value {value!r} of rater {rater!r} on unit {unit!r} is not one of {list(codes)}")
            cells[(u, r)] = codes[value]
        else:
            cells[(u, r)] = float(value)  # type: ignore[arg-type]
    matrix = np.full((len(units), len(raters)), np.nan)
    if cells:
        index = np.array(list(cells.keys()))
        matrix[index[:, 0], index[:, 1]] = list(cells.values())
    return RatingsTable(matrix, list(units), list(raters), list(order) if order is not None else None)


class _Prepared:
    """Per-unit statistics of one matrix, over the units that have at least one rating."""

    def __init__(self, matrix: np.ndarray, level: str):
        if level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)} (got {level!r})")
        x = np.asarray(matrix, dtype=float)
        if x.ndim != 2:
            raise ValueError("ratings must be a units x raters matrix")
        if np.isinf(x).any():
            raise ValueError("ratings must be finite numbers or NaN for missing")
        observed = ~np.isnan(x)
        keep = observed.any(axis=1)
        x, observed = x[keep], observed[keep]
        self.level = level
        self.n_raters = x.shape[1]
        self.values = np.unique(x[observed])
        if level == "ratio" and (self.values < 0).any():
            raise ValueError("the ratio level needs non-negative values")
        self.k = len(self.values)
        self.n = x.shape[0]
        codes = np.full(x.shape, -1, dtype=np.int64)
        codes[observed] = np.searchsorted(self.values, x[observed])
        self.codes = codes
        self.observed = observed
        self.m = observed.sum(axis=1).astype(float)
        self.pairable = self.m >= 2
        self.n_pairable = int(self.pairable.sum())
        rows = np.nonzero(observed)[0]
        flat = rows * self.k + codes[observed]
        self.counts = np.bincount(flat, minlength=self.n * self.k).reshape(self.n, self.k).astype(float)
        p = self.pairable.astype(float)
        self.p = p
        safe_pairs = np.where(self.pairable, self.m * (self.m - 1), 1.0)
        # Share of agreeing ordered pairs per unit: percent agreement and Fleiss' per-unit P_i.
        self.unit_agreement = p * ((self.counts * (self.counts - 1)).sum(axis=1) / safe_pairs)
        self.pairable_counts = self.counts * p[:, None]
        self.pairable_counts_t = np.ascontiguousarray(self.pairable_counts.T)
        self.pairable_m = self.m * p
        sizes = self.m[self.pairable]
        self.same_size = sizes.size > 0 and bool((sizes == sizes[0]).all())
        self.size_range = (int(sizes.min()), int(sizes.max())) if sizes.size else (0, 0)


def _chunks(n_units: int, draws: int, seed: int, chunk: int) -> Iterator[np.ndarray]:
    """Bootstrap unit weights, units x draws: column j counts how often each unit was drawn in resample j.

    Units run down the rows so that every product with per-unit statistics reads contiguous memory.
    """
    rng = np.random.default_rng(seed)
    done = 0
    while done < draws:
        b = min(chunk, draws - done)
        idx = rng.integers(0, n_units, size=(b, n_units))
        idx *= b
        idx += np.arange(b)[:, None]
        yield np.bincount(idx.ravel(), minlength=b * n_units).reshape(n_units, b).astype(float)
        done += b


def _wsum(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted sums over units of per-unit statistics x ((units,) or (k, units)) for each draw in w.

    einsum rather than `@`: these are long, skinny products, which a multi-threaded BLAS runs far
    slower than one core does whenever the machine has other work (measured: 20x on two busy cores).
    """
    return np.einsum("...u,ub->...b", x, w)


def _divide(num: np.ndarray, den: np.ndarray, tol: float = 1e-12) -> np.ndarray:
    out = np.full(np.shape(num), np.nan)
    ok = np.abs(den) > tol
    np.divide(num, den, out=out, where=ok)
    return out


_WEIGHTS_MEMO: dict[tuple[int, int, int, int], list[np.ndarray]] = {}
_MEMO_CELLS = 50_000_000  # one byte a cell


def _weights(n_units: int, draws: int, seed: int, chunk: int) -> Iterable[np.ndarray]:
    """The bootstrap weights, remembered for the last shape: the fields of one form usually share
    their units, and regenerating the same draws for each would double the cost of a report."""
    key = (n_units, draws, seed, chunk)
    if key not in _WEIGHTS_MEMO:
        if n_units * draws > _MEMO_CELLS:
            return _chunks(n_units, draws, seed, chunk)
        exact = list(_chunks(n_units, draws, seed, chunk))
        if any(w.max() > 255 for w in exact):  # only with a handful of units: not worth remembering
            return exact
        weights = [w.astype(np.uint8) for w in exact]
        _WEIGHTS_MEMO.clear()
        _WEIGHTS_MEMO[key] = weights
    return (w.astype(float) for w in _WEIGHTS_MEMO[key])


def _run(prep: _Prepared, stats: list[StatFn], draws: int, seed: int, cells_per_draw: int) -> tuple[dict, dict]:
    """Point estimates (every unit weighted once) and bootstrap draws of every statistic in `stats`."""
    ones = np.ones((prep.n, 1))
    point = {name: float(v[0]) for fn in stats for name, v in fn(ones).items()}
    boot: dict[str, list[np.ndarray]] = {name: [] for name in point}
    if draws > 0 and prep.n > 0:
        chunk = max(1, min(_MAX_CHUNK, _CELLS_PER_CHUNK // max(cells_per_draw, prep.n)))
        for w in _weights(prep.n, draws, seed, chunk):
            for fn in stats:
                for name, v in fn(w).items():
                    boot[name].append(v)
    return point, {name: np.concatenate(parts) if parts else np.array([]) for name, parts in boot.items()}


def _estimate(point: float, draws: np.ndarray, n_units: int, confidence: float, undefined: str | None) -> Estimate:
    if undefined is not None or not math.isfinite(point):
        return Estimate(None, None, None, n_units, undefined or "the coefficient cannot be computed on these ratings")
    finite = draws[np.isfinite(draws)]
    if draws.size == 0 or finite.size < _MIN_DEFINED_DRAWS * draws.size:
        return Estimate(point, None, None, n_units)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return Estimate(point, float(low), float(high), n_units)


# Statistics, each a function of unit weights w (units x draws) returning one value per draw.


def _percent_agreement(prep: _Prepared) -> StatFn:
    def fn(w):
        return {"percent_agreement": _divide(_wsum(prep.unit_agreement, w), _wsum(prep.p, w), tol=0.5)}

    return fn


def _alpha(prep: _Prepared) -> StatFn:
    level = prep.level
    if prep.k < 2:  # no variation at all: alpha is undefined, and the matrices below would be empty

        def undefined(w):
            return {"alpha": np.full(w.shape[1], np.nan)}

        return undefined
    n_vals = prep.pairable_m
    safe = np.where(prep.pairable, prep.m - 1, 1.0)
    if level == "nominal":
        obs_u = prep.p * (prep.m**2 - (prep.counts**2).sum(axis=1)) / safe

        def fn(w):
            nk = _wsum(prep.pairable_counts_t, w)
            n = _wsum(n_vals, w)
            expected = n**2 - (nk**2).sum(axis=0)
            return {"alpha": 1 - _divide((n - 1) * (_wsum(obs_u, w)), expected)}

        return fn
    if level == "interval":
        # Centred values keep the sums of squares well conditioned; differences are unchanged.
        v = prep.values - prep.values.mean() if prep.k else prep.values
        s1 = prep.pairable_counts @ v
        s2 = prep.pairable_counts @ (v**2)
        obs_u = prep.p * (2 * prep.m * s2 - 2 * s1**2) / safe

        def fn(w):
            n, t1, t2 = _wsum(n_vals, w), _wsum(s1, w), _wsum(s2, w)
            expected = 2 * n * t2 - 2 * t1**2
            expected = np.where(expected > 1e-9 * np.maximum(2 * n * t2, 1e-300), expected, 0.0)
            return {"alpha": 1 - _divide((n - 1) * (_wsum(obs_u, w)), expected)}

        return fn
    coincidence_t = _coincidences(prep).T.tocsr()
    k = prep.k
    if level == "ratio":
        vk, vl = np.meshgrid(prep.values, prep.values, indexing="ij")
        delta = _divide(vk - vl, vk + vl) ** 2
        delta = np.nan_to_num(delta)  # two zeros are the same value: distance 0

        def fn(w):
            o = np.asarray(coincidence_t @ w).T
            nk = o.reshape(-1, k, k).sum(axis=2)
            n = nk.sum(axis=1)
            observed = o @ delta.ravel()
            expected = np.einsum("bk,kl,bl->b", nk, delta, nk)
            return {"alpha": 1 - _divide((n - 1) * observed, expected)}

        return fn

    lo = np.minimum.outer(np.arange(k), np.arange(k))
    hi = np.maximum.outer(np.arange(k), np.arange(k))

    def fn(w):
        o = np.asarray(coincidence_t @ w).T
        nk = o.reshape(-1, k, k).sum(axis=2)
        n = nk.sum(axis=1)
        cum = np.cumsum(nk, axis=1)
        between = cum[:, hi] - cum[:, lo] + nk[:, lo]
        delta = (between - (nk[:, :, None] + nk[:, None, :]) / 2) ** 2
        observed = (o.reshape(-1, k, k) * delta).sum(axis=(1, 2))
        expected = np.einsum("bk,bkl,bl->b", nk, delta, nk)
        return {"alpha": 1 - _divide((n - 1) * observed, expected)}

    return fn


def _coincidences(prep: _Prepared) -> sparse.csr_matrix:
    """Units x (k*k) coincidences: (n_uc * n_uc' - [c == c'] n_uc) / (m_u - 1) for pairable units."""
    unit, cat = np.nonzero(prep.pairable_counts)
    count = prep.pairable_counts[unit, cat]
    per_unit = np.bincount(unit, minlength=prep.n)
    start = np.concatenate([[0], np.cumsum(per_unit)[:-1]])
    reps = per_unit[unit]
    a = np.repeat(np.arange(unit.size), reps)
    block = np.repeat(np.cumsum(reps) - reps, reps)
    b = start[unit[a]] + (np.arange(a.size) - block)
    data = (count[a] * count[b] - np.where(a == b, count[a], 0)) / (prep.m[unit[a]] - 1)
    return sparse.csr_matrix((data, (unit[a], cat[a] * prep.k + cat[b])), shape=(prep.n, prep.k * prep.k))


def _fleiss(prep: _Prepared) -> StatFn:
    def fn(w):
        p_bar = _divide(_wsum(prep.unit_agreement, w), _wsum(prep.p, w), tol=0.5)
        share = _wsum(prep.pairable_counts_t, w)
        share = share / np.maximum(share.sum(axis=0, keepdims=True), 1e-300)
        pe = (share**2).sum(axis=0)
        return {"fleiss_kappa": _divide(p_bar - pe, 1 - pe)}

    return fn


def _gwet(prep: _Prepared, n_categories: int) -> StatFn:
    shares_t = np.ascontiguousarray((prep.counts / np.maximum(prep.m, 1)[:, None]).T)

    def fn(w):
        pa = _divide(_wsum(prep.unit_agreement, w), _wsum(prep.p, w), tol=0.5)
        pi = (_wsum(shares_t, w)) / w.sum(axis=0, keepdims=True)
        pe = (pi * (1 - pi)).sum(axis=0) / (n_categories - 1)
        return {"gwet_ac1": _divide(pa - pe, 1 - pe)}

    return fn


def _cohen_weights(k: int) -> dict[str, np.ndarray]:
    i, j = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    span = max(k - 1, 1)
    return {"unweighted": (i != j).astype(float), "linear": np.abs(i - j) / span, "quadratic": ((i - j) / span) ** 2}


def _cohen_pair(prep: _Prepared, a: int, b: int, kinds: Sequence[str]) -> tuple[StatFn, int]:
    both = prep.observed[:, a] & prep.observed[:, b]
    rows = np.flatnonzero(both)
    k = prep.k
    table_t = sparse.csr_matrix(
        (np.ones(rows.size), (prep.codes[rows, a] * k + prep.codes[rows, b], rows)), shape=(k * k, prep.n)
    )
    weights = _cohen_weights(k)
    key = f"cohen:{a}:{b}"

    def fn(w):
        joint = np.asarray(table_t @ w).T
        total = joint.sum(axis=1, keepdims=True)
        joint = joint / np.maximum(total, 1e-300)
        rows_share = joint.reshape(-1, k, k).sum(axis=2)
        cols_share = joint.reshape(-1, k, k).sum(axis=1)
        out = {}
        for kind in kinds:
            m = weights[kind]
            observed = joint @ m.ravel()
            expected = np.einsum("bk,kl,bl->b", rows_share, m, cols_share)
            value = 1 - _divide(observed, expected)
            value[total[:, 0] < 1] = np.nan
            out[f"{key}:{kind}"] = value
        return out

    return fn, int(rows.size)


def _check(draws: int, confidence: float) -> None:
    if draws < 0:
        raise ValueError("draws must be zero or more")
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")


def _common_undefined(prep: _Prepared) -> str | None:
    if prep.n_pairable < 2:
        return TOO_FEW_UNITS
    return None


def agreement_report(
    matrix: np.ndarray,
    level: str = "nominal",
    *,
    raters: Sequence[Hashable] | None = None,
    n_categories: int | None = None,
    draws: int = DRAWS,
    seed: int = SEED,
    confidence: float = CONFIDENCE,
    pairs: bool = True,
) -> dict:
    """Every coefficient that fits `level`, each with its bootstrap CI, as a JSON-ready dict.

    `n_categories` is the number of categories a nominal field offers (for Gwet's AC1); by default
    the number of distinct values seen.
    """
    prep = _Prepared(matrix, level)
    _check(draws, confidence)
    names = list(raters) if raters is not None else list(range(prep.n_raters))
    if len(names) != prep.n_raters:
        raise ValueError(f"{len(names)} rater names for {prep.n_raters} columns")
    common = _common_undefined(prep)
    stats: list[StatFn] = [_percent_agreement(prep), _alpha(prep), _fleiss(prep)]
    q = n_categories if n_categories is not None else prep.k
    if level == "nominal":
        stats.append(_gwet(prep, max(q, 2)))
    kinds = ["unweighted"] if level == "nominal" else ["unweighted", "linear", "quadratic"]
    pair_list = []
    if pairs:
        for a, b in combinations(range(prep.n_raters), 2):
            fn, shared = _cohen_pair(prep, a, b, kinds)
            if shared:
                stats.append(fn)
                pair_list.append((a, b, shared))
    point, boot = _run(prep, stats, draws, seed, cells_per_draw=prep.k * prep.k * max(1, len(pair_list)))

    def est(name: str, undefined: str | None, n_units: int = prep.n_pairable) -> dict:
        return _estimate(point[name], boot[name], n_units, confidence, undefined).as_dict()

    no_variation = NO_VARIATION if prep.k < 2 else None
    report = {
        "level": level,
        "n_units": prep.n_pairable,
        "n_units_rated": prep.n,
        "n_raters": prep.n_raters,
        "n_ratings": int(prep.m.sum()),
        "draws": draws,
        "seed": seed,
        "confidence": confidence,
        "alpha": est("alpha", common or no_variation),
        "percent_agreement": est("percent_agreement", common),
    }
    if common:
        fleiss_undefined = common
    elif not prep.same_size:
        low, high = prep.size_range
        fleiss_undefined = (
            f"units have different numbers of ratings ({low} to {high}); "
            "Fleiss' kappa needs the same number for every unit"
        )
    else:
        fleiss_undefined = no_variation
    report["fleiss_kappa"] = est("fleiss_kappa", fleiss_undefined)
    if level == "nominal":
        report["gwet_ac1"] = est("gwet_ac1", common or ("only one category" if q < 2 else None))
    report["cohen_kappa"] = []
    for a, b, shared in pair_list:
        undefined = "the two raters share fewer than two units" if shared < 2 else None
        entry = {"raters": [_jsonable(names[a]), _jsonable(names[b])], "n_units": shared}
        for kind in kinds:
            name = f"cohen:{a}:{b}:{kind}"
            why = undefined
            if why is None and not math.isfinite(point[name]):
                why = "both raters gave one and the same value throughout, so chance agreement is total"
            entry[kind] = est(name, why, shared)
        report["cohen_kappa"].append(entry)
    return report


def _jsonable(label: Hashable):
    if isinstance(label, np.integer):
        return int(label)
    return label if isinstance(label, str | int | float) or label is None else str(label)


def alpha(matrix: np.ndarray, level: str = "nominal", *, draws: int = DRAWS, seed: int = SEED) -> dict:
    """Krippendorff's alpha alone (with its CI), for callers that need nothing else."""
    prep = _Prepared(matrix, level)
    point, boot = _run(prep, [_alpha(prep)], draws, seed, cells_per_draw=prep.k * prep.k)
    undefined = _common_undefined(prep) or (NO_VARIATION if prep.k < 2 else None)
    return _estimate(point["alpha"], boot["alpha"], prep.n_pairable, CONFIDENCE, undefined).as_dict()


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
