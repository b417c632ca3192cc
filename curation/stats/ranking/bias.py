"""Position and length bias of pairwise votes, with bootstrap intervals over prompts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from curation.stats.lazy import lazy_module
from curation.stats.ranking.votes import (
    _MAX_HALVINGS,
    _MAX_NEWTON_STEPS,
    _STEP_TOLERANCE,
    _VOTE_BLOCK,
    DEFAULT_DRAWS,
    DEFAULT_LEVEL,
    PairwiseVote,
    _json_safe,
    _percentile_interval,
    _prompt_draws,
)

# numpy and scipy load at the first computation, not at every process start (curation.stats.lazy).
np = lazy_module("numpy")
special = lazy_module("scipy.special")

# --------------------------------------------------------------------------------------------
# Bias diagnostics
# --------------------------------------------------------------------------------------------


def position_bias(
    votes: Sequence[PairwiseVote],
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
) -> dict[str, Any]:
    """Share of decisive (non-tie) votes won by the answer shown on the left.

    0.5 means no position bias. The CI resamples prompts; the two-sided binomial p-value against
    0.5 treats votes as independent and is only a rough guide when prompts carry several votes.
    """
    from scipy import stats  # scipy.stats takes over a second to import: only when used

    sided = [v for v in votes if v.a_side is not None]
    result: dict[str, Any] = {
        "votes": len(sided),
        "votes_without_side": len(votes) - len(sided),
        "ties": sum(v.winner == "tie" for v in sided),
        "decisive": 0,
        "left_wins": 0,
        "left_win_share": None,
        "ci_low": None,
        "ci_high": None,
        "p_value": None,
        "level": level,
        "reason": None,
    }
    decisive = [v for v in sided if v.winner != "tie"]
    if not sided:
        return result | {"reason": "no vote records the side each answer was shown on"}
    if not decisive:
        return result | {"reason": "every vote with a recorded side is a tie"}
    prompts = sorted({v.prompt for v in decisive})
    prompt_index = {p: n for n, p in enumerate(prompts)}
    left_wins = np.zeros(len(prompts))
    totals = np.zeros(len(prompts))
    for v in decisive:
        totals[prompt_index[v.prompt]] += 1.0
        left_wins[prompt_index[v.prompt]] += float((v.winner == "a") == (v.a_side == "left"))
    weights = _prompt_draws(len(prompts), draws, seed)
    low, high = _percentile_interval((weights @ left_wins) / (weights @ totals), level)
    k, n = int(left_wins.sum()), int(totals.sum())
    return _json_safe(
        result
        | {
            "decisive": n,
            "left_wins": k,
            "left_win_share": k / n,
            "ci_low": low,
            "ci_high": high,
            "p_value": stats.binomtest(k, n, 0.5).pvalue,
        }
    )


def length_bias(
    votes: Sequence[PairwiseVote],
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
    length_unit: float = 100.0,
    bins: int = 5,
) -> dict[str, Any]:
    """Win rate of the longer answer (ties as half), binned by length difference, and a logistic slope.

    The slope is beta in P(a wins) = 1 / (1 + exp(-beta * (length_a - length_b) / length_unit)),
    fitted by maximum likelihood with ties as half a win. It has no intercept because the labels a
    and b are arbitrary: swapping them must give the same slope. Stronger models may also write
    longer answers, so a positive slope is a warning sign, not proof that reviewers prefer length.
    """
    usable = [v for v in votes if v.length_a is not None and v.length_b is not None]
    result: dict[str, Any] = {
        "votes": len(usable),
        "votes_without_lengths": len(votes) - len(usable),
        "length_unit": length_unit,
        "level": level,
        "longer_win_rate": None,
        "ci_low": None,
        "ci_high": None,
        "bins": [],
        "slope": None,
        "slope_ci_low": None,
        "slope_ci_high": None,
        "odds_ratio_per_unit": None,
        "reason": None,
    }
    if not usable:
        return result | {"reason": "no vote records the lengths of both answers"}
    difference = np.array([(float(v.length_a) - float(v.length_b)) / length_unit for v in usable])
    score_a = np.array([v.score_a for v in usable])
    prompts = sorted({v.prompt for v in usable})
    prompt_index = {p: n for n, p in enumerate(prompts)}
    vote_prompt = np.array([prompt_index[v.prompt] for v in usable])
    uneven = difference != 0
    if not uneven.any():
        return result | {"reason": "the two answers have the same length in every vote"}
    gap = np.abs(difference[uneven]) * length_unit
    longer_score = np.where(difference[uneven] > 0, score_a[uneven], 1.0 - score_a[uneven])
    weights = _prompt_draws(len(prompts), draws, seed)
    per_prompt_score = np.bincount(vote_prompt[uneven], weights=longer_score, minlength=len(prompts))
    per_prompt_votes = np.bincount(vote_prompt[uneven], minlength=len(prompts)).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        low, high = _percentile_interval(
            (weights @ per_prompt_score) / (weights @ per_prompt_votes), level, lowest=0.0, highest=1.0
        )
    result |= {
        "longer_win_rate": longer_score.mean(),
        "ci_low": low,
        "ci_high": high,
        "bins": _length_bins(gap, longer_score, bins),
    }
    point = _logistic_slope(difference, score_a, np.ones((1, len(usable))))[0]
    if not np.isfinite(point):
        side = "longer" if point > 0 else "shorter"
        return _json_safe(
            result | {"reason": f"the {side} answer won every vote with a length difference: the slope is infinite"}
        )
    boot = np.concatenate(
        [
            _logistic_slope(difference, score_a, weights[start : start + _VOTE_BLOCK][:, vote_prompt], point)
            for start in range(0, draws, _VOTE_BLOCK)
        ]
    )
    slope_low, slope_high = _percentile_interval(boot, level)
    return _json_safe(
        result
        | {
            "slope": point,
            "slope_ci_low": slope_low,
            "slope_ci_high": slope_high,
            "odds_ratio_per_unit": math.exp(point),
        }
    )


def _length_bins(gap: np.ndarray, longer_score: np.ndarray, bins: int) -> list[dict[str, Any]]:
    """Quantile bins of the absolute length difference, so every bin holds a similar number of votes."""
    edges = np.unique(np.quantile(gap, np.linspace(0.0, 1.0, max(1, bins) + 1)))
    if edges.size == 1:
        edges = np.array([edges[0], edges[0]])
    which = np.clip(np.searchsorted(edges, gap, side="right") - 1, 0, edges.size - 2)
    rows = []
    for b in range(edges.size - 1):
        inside = which == b
        if inside.any():
            rows.append(
                {
                    "difference_from": edges[b],
                    "difference_to": edges[b + 1],
                    "votes": int(inside.sum()),
                    "longer_win_rate": longer_score[inside].mean(),
                }
            )
    return rows


def _logistic_slope(x: np.ndarray, y: np.ndarray, weights: np.ndarray, start: float = 0.0) -> np.ndarray:
    """Maximum-likelihood slope of a no-intercept logistic model, one per row of vote ``weights``.

    Returns +/-inf when the votes are separated (no vote contradicts the direction of the length
    difference), NaN when no weighted vote has a length difference. ``start`` (the full-data
    estimate, for bootstrap rows) only saves iterations.
    """
    # The score tends to a negative limit as beta -> +inf exactly when some vote contradicts
    # "longer wins" (and the mirror for -inf); otherwise the likelihood keeps increasing.
    against_longer = ((x > 0) * (1.0 - y) + (x < 0) * y) * np.abs(x)
    for_longer = ((x > 0) * y + (x < 0) * (1.0 - y)) * np.abs(x)
    bounded_above = weights @ against_longer > 0
    bounded_below = weights @ for_longer > 0
    beta = np.full(weights.shape[0], float(start))

    # The score is sum(w * x * (y - sigmoid(beta * x))); its data term does not depend on beta.
    wx = weights * x
    wxx = wx * x
    observed = wx @ y

    def evaluate(rows: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = special.expit(b[:, None] * x)
        gradient = observed[rows] - np.einsum("bv,bv->b", wx[rows], p)
        information = np.einsum("bv,bv->b", wxx[rows], p * (1.0 - p))
        return gradient, information

    rows = np.flatnonzero(bounded_above & bounded_below)
    gradient, information = evaluate(rows, beta[rows])
    for _ in range(_MAX_NEWTON_STEPS):
        step = gradient / np.where(information > 0, information, 1.0)
        moving = np.abs(step) > _STEP_TOLERANCE
        rows, step, gradient = rows[moving], step[moving], gradient[moving]
        if rows.size == 0:
            break
        new = evaluate(rows, beta[rows] + step)
        # The score is monotone in beta (concave log-likelihood); a step that does not shrink it
        # overshot, and a short enough step along the Newton direction always does.
        for _ in range(_MAX_HALVINGS):
            worse = np.flatnonzero(np.abs(new[0]) > np.abs(gradient))
            if worse.size == 0:
                break
            step[worse] *= 0.5
            retry = evaluate(rows[worse], beta[rows[worse]] + step[worse])
            for part, value in zip(new, retry, strict=True):
                part[worse] = value
        beta[rows] += step
        gradient, information = new
    beta[~bounded_above & bounded_below] = np.inf
    beta[bounded_above & ~bounded_below] = -np.inf
    beta[~bounded_above & ~bounded_below] = np.nan
    return beta
