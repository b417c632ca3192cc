"""The coefficients, each a function of unit weights (units x draws) giving one value per draw."""

from __future__ import annotations

import math
from collections.abc import Sequence

from curation.stats.agreement.bootstrap import (
    CONFIDENCE,
    DRAWS,
    NO_VARIATION,
    SEED,
    TOO_FEW_UNITS,
    RatingsTable,
    StatFn,
    _divide,
    _estimate,
    _Prepared,
    _run,
    _wsum,
)
from curation.stats.lazy import lazy_module

# numpy and scipy load at the first computation, not at every process start (curation.stats.lazy).
np = lazy_module("numpy")
sparse = lazy_module("scipy.sparse")

# Statistics, each a function of unit weights w (units x draws) returning one value per draw. Each
# keeps the per-unit arrays it reads, not the prepared statistics: those are dropped once the
# statistics of a pass are made, while the statistics stay for all its draws.


def _percent_agreement(prep: _Prepared) -> StatFn:
    agreement, p = prep.unit_agreement, prep.p

    def fn(w):
        return {"percent_agreement": _divide(_wsum(agreement, w), _wsum(p, w), tol=0.5)}

    return fn


def _alpha(prep: _Prepared) -> StatFn:
    """Krippendorff's alpha over bootstrap weights, one branch per level (Krippendorff 2011's formula for
    each over per-unit statistics). The four stay in one function so they read side by side."""
    level = prep.level
    if prep.k < 2:  # no variation at all: alpha is undefined, and the matrices below would be empty

        def undefined(w):
            return {"alpha": np.full(w.shape[1], np.nan)}

        return undefined
    n_vals = prep.pairable_m
    safe = np.where(prep.pairable, prep.m - 1, 1.0)
    if level == "nominal":
        obs_u = prep.p * (prep.m**2 - (prep.counts**2).sum(axis=1)) / safe
        counts_t = prep.pairable_counts_t

        def fn(w):
            nk = _wsum(counts_t, w)
            n = _wsum(n_vals, w)
            expected = n**2 - (nk**2).sum(axis=0)
            return {"alpha": 1 - _divide((n - 1) * (_wsum(obs_u, w)), expected)}

        return fn
    if level == "interval":
        # Centred values keep the sums of squares well conditioned; differences are unchanged.
        v = prep.values - prep.values.mean() if prep.k else prep.values
        pairable_counts = prep.pairable_counts
        s1 = pairable_counts @ v
        s2 = pairable_counts @ (v**2)
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
    pairable_counts = prep.pairable_counts
    unit, cat = np.nonzero(pairable_counts)
    count = pairable_counts[unit, cat]
    per_unit = np.bincount(unit, minlength=prep.n)
    start = np.concatenate([[0], np.cumsum(per_unit)[:-1]])
    reps = per_unit[unit]
    a = np.repeat(np.arange(unit.size), reps)
    block = np.repeat(np.cumsum(reps) - reps, reps)
    b = start[unit[a]] + (np.arange(a.size) - block)
    data = (count[a] * count[b] - np.where(a == b, count[a], 0)) / (prep.m[unit[a]] - 1)
    return sparse.csr_matrix((data, (unit[a], cat[a] * prep.k + cat[b])), shape=(prep.n, prep.k * prep.k))


def _fleiss(prep: _Prepared) -> StatFn:
    agreement, p, counts_t = prep.unit_agreement, prep.p, prep.pairable_counts_t

    def fn(w):
        p_bar = _divide(_wsum(agreement, w), _wsum(p, w), tol=0.5)
        share = _wsum(counts_t, w)
        share = share / np.maximum(share.sum(axis=0, keepdims=True), 1e-300)
        pe = (share**2).sum(axis=0)
        return {"fleiss_kappa": _divide(p_bar - pe, 1 - pe)}

    return fn


def _gwet(prep: _Prepared, n_categories: int) -> StatFn:
    shares_t = np.ascontiguousarray((prep.counts / np.maximum(prep.m, 1)[:, None]).T)
    agreement, p = prep.unit_agreement, prep.p

    def fn(w):
        pa = _divide(_wsum(agreement, w), _wsum(p, w), tol=0.5)
        pi = (_wsum(shares_t, w)) / w.sum(axis=0, keepdims=True)
        pe = (pi * (1 - pi)).sum(axis=0) / (n_categories - 1)
        return {"gwet_ac1": _divide(pa - pe, 1 - pe)}

    return fn


def _cohen_weights(k: int) -> dict[str, np.ndarray]:
    i, j = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    span = max(k - 1, 1)
    return {"unweighted": (i != j).astype(float), "linear": np.abs(i - j) / span, "quadratic": ((i - j) / span) ** 2}


def _cohen_pair(prep: _Prepared, a: int, b: int, kinds: Sequence[str]) -> tuple[StatFn, int]:
    units_a, codes_a = prep.rated_by(a)
    units_b, codes_b = prep.rated_by(b)
    rows, in_a, in_b = np.intersect1d(units_a, units_b, assume_unique=True, return_indices=True)
    k = prep.k
    table_t = sparse.csr_matrix((np.ones(rows.size), (codes_a[in_a] * k + codes_b[in_b], rows)), shape=(k * k, prep.n))
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


def alpha(matrix: np.ndarray | RatingsTable, level: str = "nominal", *, draws: int = DRAWS, seed: int = SEED) -> dict:
    """Krippendorff's alpha alone (with its CI), for callers that need nothing else."""
    prep = _Prepared(matrix, level)
    point, boot = _run(prep, [_alpha(prep)], draws, seed, cells_per_draw=prep.k * prep.k)
    undefined = _common_undefined(prep) or (NO_VARIATION if prep.k < 2 else None)
    return _estimate(point["alpha"], boot["alpha"], prep.n_pairable, CONFIDENCE, undefined).as_dict()


# Bound the work arrays of `alpha_without_each`: the raters x categories (or categories^2) sums of a
# block of raters, the ratings of a block, and the pairs of categories within the units of a run of them.
_WITHOUT_CELLS = 4_000_000
_WITHOUT_RATINGS = 1_000_000
_WITHOUT_PAIRS = 1_000_000


def alpha_without_each(prep: _Prepared) -> np.ndarray:
    """Krippendorff's alpha with each rater's ratings left out, for every rater at once: NaN where it is
    undefined (fewer than two pairable units or two values left, or no expected disagreement).

    Alpha is a function of sums over units, so leaving rater r out changes only the terms of the units r
    rated: each of those units' term is taken out and the term of the unit without r's rating put in.
    The work is proportional to the ratings, where recomputing alpha for each rater would be raters x
    ratings. The value counts left, on which "undefined" turns, are integers and counted exactly.

    The sums are the same as a recomputation's up to their last bits, which can still decide how a value
    lying on a rounding boundary is reported; such a value (and one whose expected disagreement is
    near a cut-off) is recomputed without the rater, so the report is the one recomputing would give.
    """
    n_raters, k = prep.n_raters, prep.k
    out = np.full(n_raters, np.nan)
    if n_raters == 0 or k < 2:  # no variation even before anyone is left out
        return out
    by_pairs = prep.level in ("ordinal", "ratio")
    most = max(1, _WITHOUT_CELLS // (k * k if by_pairs else k))
    if by_pairs:
        whole = np.asarray(_coincidences(prep).sum(axis=0)).ravel()
        sums = None
    else:
        # Nominal terms need only the counts of each unit's values; interval ones their centred sums.
        v = prep.values - prep.values.mean() if prep.level == "interval" else np.zeros(k)
        sums = (v, prep.counts @ v, prep.counts @ (v**2), (prep.counts**2).sum(axis=1))
        whole = _unit_disagreement(prep.level, prep.m, *sums[1:])[prep.pairable].sum()
    first = 0
    while first < n_raters:
        # As many raters as fit the bounds (one at least), their ratings being consecutive.
        end = int(np.searchsorted(prep.rater_ptr, prep.rater_ptr[first] + _WITHOUT_RATINGS, side="right")) - 1
        raters = np.arange(first, min(max(end, first + 1), first + most, n_raters))
        left = _LeftOut(prep, raters)
        value, doubtful = left.pairs_alpha(whole) if sums is None else left.sums_alpha(whole, *sums)
        undefined = (left.pairable_units < 2) | (left.n_values < 2)
        value[undefined] = np.nan
        for r in np.flatnonzero(~undefined & (doubtful | _near_rounding(value))):
            value[r] = _alpha_recomputed_without(prep, first + int(r))
        out[raters] = value
        first = int(raters[-1]) + 1
    return out


def _near_rounding(value: np.ndarray) -> np.ndarray:
    """Values whose rounding to six decimals (`_clean`) its last bits could change, zero's sign included."""
    scaled = np.abs(np.nan_to_num(value, nan=1.0)) * 1e6
    return (scaled < 0.5 + 1e-4) | (np.abs(scaled - np.floor(scaled) - 0.5) < 1e-4)


def _alpha_recomputed_without(prep: _Prepared, rater: int) -> float:
    """Alpha of the ratings without one rater's, computed from scratch as for any ratings (NaN if undefined)."""
    others = np.ones(prep.rater_unit.size, dtype=bool)
    others[prep.rater_ptr[rater] : prep.rater_ptr[rater + 1]] = False
    raters = prep.rater_of_rating()[others]
    table = RatingsTable(
        range(prep.n),
        range(prep.n_raters - 1),
        None,
        prep.rater_unit[others],
        raters - (raters > rater),
        prep.values[prep.rater_code[others]],
    )
    left = _Prepared(table, prep.level)
    if _common_undefined(left) is not None or left.k < 2:
        return math.nan
    return float(_alpha(left)(np.ones((left.n, 1)))["alpha"][0])


def _doubtful(expected: np.ndarray) -> np.ndarray:
    """Expected disagreements close enough to `_divide`'s cut-off for the last bits to decide "undefined"
    (an exact zero is exact: it comes from value counts, which are integers)."""
    return (expected != 0) & (np.abs(expected) < 1e-6)


def _unit_disagreement(level: str, m, s1, s2, sq):
    """A pairable unit's observed disagreement (its coincidences weighted by distance, over m - 1) from
    its number of ratings m, sum and sum of squares of (centred) values, and sum of squared value counts."""
    safe = np.where(m >= 2, m - 1, 1.0)
    if level == "nominal":
        return (m**2 - sq) / safe
    return (2 * m * s2 - 2 * s1**2) / safe


class _LeftOut:
    """A block of consecutive raters, each left out in turn: their ratings and the value counts left."""

    def __init__(self, prep: _Prepared, raters: np.ndarray):
        k, first, self.size = prep.k, int(raters[0]), raters.size
        self.prep = prep
        span = slice(prep.rater_ptr[first], prep.rater_ptr[first + self.size])
        self.unit, self.code = prep.rater_unit[span], prep.rater_code[span]
        self.rater = np.repeat(np.arange(self.size), np.diff(prep.rater_ptr[first : first + self.size + 1]))
        self.m = prep.m[self.unit]  # the number of ratings of each rated unit, the rater's included
        self.stays = self.m >= 3  # a unit of two ratings is not pairable without one of them
        leaves = self.m == 2
        own = np.bincount(self.rater * k + self.code, minlength=self.size * k).reshape(self.size, k)
        self.present = (prep.counts.sum(axis=0)[None, :] - own) > 0
        self.n_values = self.present.sum(axis=1)
        self.pairable_units = prep.n_pairable - np.bincount(self.rater[leaves], minlength=self.size)
        # Pairable value counts left: a unit of three or more loses the rater's rating, a unit of two both.
        lost = np.bincount(self.rater[self.stays] * k + self.code[self.stays], minlength=self.size * k)
        pairs_lost = sparse.csr_matrix(
            (np.ones(int(leaves.sum())), (self.rater[leaves], self.unit[leaves])), shape=(self.size, prep.n)
        )
        self.nk = prep.pairable_counts_t.sum(axis=1)[None, :] - lost.reshape(self.size, k) - pairs_lost @ prep.counts
        self.n = self.nk.sum(axis=1)

    def sums_alpha(self, whole: float, v, s1, s2, sq) -> tuple[np.ndarray, np.ndarray]:
        """Nominal and interval alpha: each unit's disagreement is a function of a few sums over its ratings."""
        prep, unit = self.prep, self.unit
        before = _unit_disagreement(prep.level, self.m, s1[unit], s2[unit], sq[unit])
        gone = v[self.code]
        after = _unit_disagreement(
            prep.level,
            self.m - 1,
            s1[unit] - gone,
            s2[unit] - gone**2,
            sq[unit] - 2 * prep.counts[unit, self.code] + 1,
        )
        change = np.where(self.stays, after, 0.0) - np.where(self.m >= 2, before, 0.0)
        observed = whole + np.bincount(self.rater, weights=change, minlength=self.size)
        nk, n = self.nk, self.n
        if prep.level == "nominal":
            expected = n**2 - (nk**2).sum(axis=1)
        else:
            # As in `_alpha`: values centred on the mean of the values there are, and the same guard
            # against the difference of two nearly equal sums.
            centre = (self.present * prep.values[None, :]).sum(axis=1) / np.maximum(self.n_values, 1)
            centred = prep.values[None, :] - centre[:, None]
            t1, t2 = (nk * centred).sum(axis=1), (nk * centred**2).sum(axis=1)
            raw = 2 * n * t2 - 2 * t1**2
            scale = np.maximum(2 * n * t2, 1e-300)
            expected = np.where(raw > 1e-9 * scale, raw, 0.0)
            return 1 - _divide((n - 1) * observed, expected), _doubtful(expected) | (np.abs(raw / scale - 1e-9) < 1e-10)
        return 1 - _divide((n - 1) * observed, expected), _doubtful(expected)

    def pairs_alpha(self, whole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ordinal and ratio alpha, from each rater's coincidence matrix left (the whole one, less the
        coincidences of the units they rated, plus those of the same units without their rating)."""
        prep, k, nk, n = self.prep, self.prep.k, self.nk, self.n
        o = (whole[None, :] + self._coincidence_change()).reshape(self.size, k, k)
        absent = nk == 0  # a value no pairable unit has left: its row and column are zero, not rounding residue
        o[absent[:, :, None] | absent[:, None, :]] = 0.0
        if prep.level == "ratio":
            vk, vl = np.meshgrid(prep.values, prep.values, indexing="ij")
            delta = np.nan_to_num(_divide(vk - vl, vk + vl) ** 2)  # two zeros are the same value: distance 0
            observed = (o * delta[None]).sum(axis=(1, 2))
            expected = np.einsum("bk,kl,bl->b", nk, delta, nk)
        else:
            lo = np.minimum.outer(np.arange(k), np.arange(k))
            hi = np.maximum.outer(np.arange(k), np.arange(k))
            cum = np.cumsum(nk, axis=1)
            between = cum[:, hi] - cum[:, lo] + nk[:, lo]
            deltas = (between - (nk[:, :, None] + nk[:, None, :]) / 2) ** 2
            observed = (o * deltas).sum(axis=(1, 2))
            expected = np.einsum("bk,bkl,bl->b", nk, deltas, nk)
        return 1 - _divide((n - 1) * observed, expected), _doubtful(expected)

    def _coincidence_change(self) -> np.ndarray:
        """Per rater (rows) the change of the coincidence matrix (k*k columns) when they are left out:
        for each unit they rated, minus its coincidences, plus those of the unit without their rating."""
        prep, k = self.prep, self.prep.k
        unit_of, cat_of = np.nonzero(prep.counts)  # each unit's values, by unit
        count_of = prep.counts[unit_of, cat_of]
        start = np.concatenate([[0], np.cumsum(np.bincount(unit_of, minlength=prep.n))])
        rated = np.flatnonzero(self.m >= 2)
        width = (start[self.unit + 1] - start[self.unit])[rated]
        change = np.zeros(self.size * k * k)
        for part in _runs(width**2, _WITHOUT_PAIRS):
            which = rated[part]
            reps = width[part] ** 2
            rating = np.repeat(which, reps)
            j = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
            w = np.repeat(width[part], reps)
            base = start[self.unit[rating]]
            a, b = base + j // w, base + j % w
            same = a == b
            na, nb, m = count_of[a], count_of[b], self.m[rating]
            before = (na * nb - np.where(same, na, 0.0)) / (m - 1)
            gone = self.code[rating]
            na_left = na - (cat_of[a] == gone)
            nb_left = nb - (cat_of[b] == gone)
            after = (na_left * nb_left - np.where(same, na_left, 0.0)) / np.where(m >= 3, m - 2, 1.0)
            term = np.where(m >= 3, after, 0.0) - before
            cell = self.rater[rating] * k * k + cat_of[a] * k + cat_of[b]
            change += np.bincount(cell, weights=term, minlength=self.size * k * k)
        return change.reshape(self.size, k * k)


def _runs(sizes: np.ndarray, limit: int):
    """Consecutive runs of indices into `sizes` whose sizes add up to at most `limit` (or one index)."""
    total = np.cumsum(sizes)
    begin = 0
    while begin < sizes.size:
        before = total[begin - 1] if begin else 0
        end = max(begin + 1, int(np.searchsorted(total, before + limit, side="right")))
        yield slice(begin, end)
        begin = end
