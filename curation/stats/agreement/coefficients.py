"""The coefficients, each a function of unit weights (units x draws) giving one value per draw."""

from __future__ import annotations

from collections.abc import Sequence

from curation.stats.agreement.bootstrap import (
    CONFIDENCE,
    DRAWS,
    NO_VARIATION,
    SEED,
    TOO_FEW_UNITS,
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

# Statistics, each a function of unit weights w (units x draws) returning one value per draw.


def _percent_agreement(prep: _Prepared) -> StatFn:
    def fn(w):
        return {"percent_agreement": _divide(_wsum(prep.unit_agreement, w), _wsum(prep.p, w), tol=0.5)}

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


def alpha(matrix: np.ndarray, level: str = "nominal", *, draws: int = DRAWS, seed: int = SEED) -> dict:
    """Krippendorff's alpha alone (with its CI), for callers that need nothing else."""
    prep = _Prepared(matrix, level)
    point, boot = _run(prep, [_alpha(prep)], draws, seed, cells_per_draw=prep.k * prep.k)
    undefined = _common_undefined(prep) or (NO_VARIATION if prep.k < 2 else None)
    return _estimate(point["alpha"], boot["alpha"], prep.n_pairable, CONFIDENCE, undefined).as_dict()
