"""Bradley-Terry maximum likelihood on the Elo scale, anchored where the votes do not connect every model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from curation.stats.lazy import lazy_module
from curation.stats.ranking.votes import (
    _DRAW_BLOCK,
    _MAX_HALVINGS,
    _MAX_NEWTON_STEPS,
    _STEP_TOLERANCE,
    BASE_RATING,
    DEFAULT_DRAWS,
    DEFAULT_LEVEL,
    ELO_SCALE,
    ESTIMATED,
    MINUS_INFINITY,
    PLUS_INFINITY,
    UNDEFINED,
    PairwiseVote,
    _closure,
    _half_win_matrices,
    _json_safe,
    _PairTable,
    _percentile_interval,
    _prompt_draws,
    _tabulate,
)

# numpy and scipy load at the first computation, not at every process start (curation.stats.lazy).
np = lazy_module("numpy")
special = lazy_module("scipy.special")

# --------------------------------------------------------------------------------------------
# Bradley-Terry maximum likelihood
# --------------------------------------------------------------------------------------------


def _log_likelihood(wins: np.ndarray, theta: np.ndarray) -> np.ndarray:
    return (wins * special.log_expit(theta[:, :, None] - theta[:, None, :])).sum(axis=(1, 2))


def _newton_bradley_terry(wins: np.ndarray, active: np.ndarray, pivot: int) -> np.ndarray:
    """Maximum-likelihood strengths (natural-log scale) for each stack entry, pivot held at 0.

    Precondition: in every entry the models marked ``active`` form a strongly connected beat graph
    that contains ``pivot`` (or no model is active), so the MLE exists and is unique. Inactive
    models are left at 0 and ignored.
    """
    draws, size, _ = wins.shape
    pair_active = active[:, :, None] & active[:, None, :]
    wins = np.where(pair_active, wins, 0.0)
    totals = wins + wins.transpose(0, 2, 1)
    free = active.copy()
    free[:, pivot] = False
    fixed_identity = np.eye(size) * (~free)[:, :, None]
    free_pairs = free[:, :, None] & free[:, None, :]
    diagonal = np.arange(size)
    theta = np.zeros((draws, size))
    loglik = _log_likelihood(wins, theta)
    todo = free.any(axis=1)
    for _ in range(_MAX_NEWTON_STEPS):
        if not todo.any():
            break
        p = special.expit(theta[:, :, None] - theta[:, None, :])
        gradient = np.where(free, (wins - totals * p).sum(axis=2), 0.0)
        curvature = totals * p * (1.0 - p)
        laplacian = -curvature
        laplacian[:, diagonal, diagonal] = curvature.sum(axis=2)
        laplacian = np.where(free_pairs, laplacian, 0.0) + fixed_identity
        step = np.linalg.solve(laplacian, gradient[..., None])[..., 0]
        # The log-likelihood is concave, so halving a Newton step until it no longer decreases the
        # likelihood converges from any start.
        scale = np.ones(draws)
        for _ in range(_MAX_HALVINGS):
            candidate = theta + scale[:, None] * step
            new_loglik = _log_likelihood(wins, candidate)
            worse = todo & (new_loglik < loglik - 1e-12 * (1.0 + np.abs(loglik)))
            if not worse.any():
                break
            scale[worse] *= 0.5
        moved = np.abs(scale[:, None] * step).max(axis=1)
        theta = np.where(todo[:, None], candidate, theta)
        loglik = np.where(todo, new_loglik, loglik)
        todo &= moved > _STEP_TOLERANCE
    return theta


@dataclass(frozen=True)
class _Anchor:
    kind: str  # "reference" or "mean"
    members: np.ndarray  # bool (M,)
    pivot: int


def _choose_anchor(table: _PairTable, wins: np.ndarray, reference: str | None) -> _Anchor:
    """The reference model, or else the largest strongly connected component of the beat graph."""
    if reference is not None:
        if reference not in table.models:
            raise ValueError(f"reference model {reference!r} does not appear in the votes")
        members = np.zeros(table.size, dtype=bool)
        pivot = table.models.index(reference)
        members[pivot] = True
        return _Anchor("reference", members, pivot)
    reach = _closure(wins[None] > 0)[0]
    same_component = reach & reach.T
    # Ties between equally large components go to the one with more votes inside it, then to the
    # one holding the alphabetically first model, so the choice never depends on input order.
    best = max(
        range(table.size),
        key=lambda m: (
            same_component[m].sum(),
            wins[np.ix_(same_component[m], same_component[m])].sum(),
            -m,
        ),
    )
    return _Anchor("mean", same_component[best].copy(), best)


def _ratings(wins: np.ndarray, anchor: _Anchor) -> np.ndarray:
    """Elo-scale ratings for a (B, M, M) stack, +/-inf where unbounded and NaN where undefined.

    A rating is measured from the anchor (the reference, or the mean of the anchor group). It is
    finite when the model and the whole anchor group share one strongly connected component. Else
    it is the sign of its gaps to the anchor members outside its component: +inf when it is above
    each of them in the beat graph's order, -inf when below each of them, undefined when the gaps
    disagree or some member is not ordered against it at all.
    """
    reach = _closure(wins > 0)
    members, pivot = anchor.members, anchor.pivot
    core = reach[:, pivot, :] & reach[:, :, pivot]
    valid = core[:, members].all(axis=1)
    active = core & valid[:, None]
    theta = _newton_bradley_terry(wins, active, pivot)
    theta -= theta[:, members].mean(axis=1, keepdims=True)
    ratings = np.where(active, BASE_RATING + ELO_SCALE * theta, np.nan)
    to_anchor, from_anchor = reach[:, :, members], reach[:, members, :].transpose(0, 2, 1)
    above = (to_anchor & ~from_anchor).any(axis=2)
    below = (from_anchor & ~to_anchor).any(axis=2)
    unordered = (~to_anchor & ~from_anchor).any(axis=2)
    ratings[~active & above & ~below & ~unordered] = np.inf
    ratings[~active & below & ~above & ~unordered] = -np.inf
    return ratings


def _rating_reason(status: str, connected: bool) -> str | None:
    if status == PLUS_INFINITY:
        return (
            "beat the anchor group (directly or through a chain of wins) and was never beaten by it, "
            "even indirectly: the maximum-likelihood rating is +infinity"
        )
    if status == MINUS_INFINITY:
        return (
            "lost to the anchor group (directly or through a chain of losses) and never beat it, "
            "even indirectly: the maximum-likelihood rating is -infinity"
        )
    if status == UNDEFINED:
        if not connected:
            return "no chain of comparisons links it to the anchor group: its rating is not identifiable"
        return (
            "its wins and losses do not order it against the anchor group: the maximum-likelihood gap is not determined"
        )
    return None


def bradley_terry(
    votes: Sequence[PairwiseVote],
    *,
    reference: str | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
) -> dict[str, Any]:
    """Bradley-Terry ratings on the Elo scale with bootstrap confidence intervals over prompts."""
    table = _tabulate(votes)
    return _bradley_terry(table, _prompt_draws(len(table.prompts), draws, seed), reference, level, seed)


def _bradley_terry(
    table: _PairTable, weights: np.ndarray, reference: str | None, level: float, seed: int
) -> dict[str, Any]:
    full = _half_win_matrices(table, np.ones((1, len(table.prompts))))
    anchor = _choose_anchor(table, full[0], reference)
    point = _ratings(full, anchor)[0]
    comparisons = full[0] + full[0].T
    connected = _closure(comparisons[None] > 0)[0][anchor.pivot]
    boot = np.concatenate(
        [
            _ratings(_half_win_matrices(table, weights[start : start + _DRAW_BLOCK]), anchor)
            for start in range(0, weights.shape[0], _DRAW_BLOCK)
        ]
    )
    rows = [
        _rating_row(model, point[m], boot[:, m], bool(connected[m]), int(comparisons[m].sum()), level)
        for m, model in enumerate(table.models)
    ]
    order = {PLUS_INFINITY: 0, ESTIMATED: 1, MINUS_INFINITY: 2, UNDEFINED: 3}
    rows.sort(key=lambda r: (order[r["status"]], -(r["rating"] if r["status"] == ESTIMATED else 0.0), r["model"]))
    anchor_models = [table.models[m] for m in np.flatnonzero(anchor.members)]
    return _json_safe(
        {
            "method": (
                "Bradley-Terry maximum likelihood without shrinkage, ties as half a win, Elo scale "
                "P(i beats j) = 1 / (1 + 10^(-(R_i - R_j)/400)); percentile bootstrap over prompts"
            ),
            "anchor": {
                "kind": anchor.kind,
                "models": anchor_models,
                "rating": BASE_RATING,
                "description": (
                    f"{anchor_models[0]} is rated {BASE_RATING:g}"
                    if anchor.kind == "reference"
                    else f"the mean rating of {', '.join(anchor_models)} is {BASE_RATING:g}"
                ),
            },
            "level": level,
            "draws": int(weights.shape[0]),
            "seed": seed,
            "ratings": rows,
        }
    )


def _rating_row(model: str, rating: float, column: np.ndarray, connected: bool, votes: int, level: float) -> dict:
    """One model's rating with its interval and how its bootstrap draws came out."""
    status = _status(rating)
    low, high = _percentile_interval(column, level) if status == ESTIMATED else (np.nan, np.nan)
    return {
        "model": model,
        "rating": rating,
        "status": status,
        "reason": _rating_reason(status, connected),
        "ci_low": low,
        "ci_high": high,
        "ci_note": _interval_note(column) if status == ESTIMATED else None,
        "draws": {
            "finite": int(np.isfinite(column).sum()),
            PLUS_INFINITY: int(np.isposinf(column).sum()),
            MINUS_INFINITY: int(np.isneginf(column).sum()),
            UNDEFINED: int(np.isnan(column).sum()),
        },
        "votes": votes,
    }


def _status(value: float) -> str:
    if np.isnan(value):
        return UNDEFINED
    if np.isposinf(value):
        return PLUS_INFINITY
    if np.isneginf(value):
        return MINUS_INFINITY
    return ESTIMATED


def _interval_note(column: np.ndarray) -> str | None:
    counts = (
        (int(np.isposinf(column).sum()), "without a finite maximum (+infinity)"),
        (int(np.isneginf(column).sum()), "without a finite maximum (-infinity)"),
        (int(np.isnan(column).sum()), "where the rating is undefined, counted at both extremes"),
    )
    notes = [f"{n} draw{'' if n == 1 else 's'} {what}" for n, what in counts if n]
    return "; ".join(notes) or None
