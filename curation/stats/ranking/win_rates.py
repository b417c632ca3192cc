"""Win rates with their intervals, and the mean scores of absolute mode."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from curation.stats.lazy import lazy_module
from curation.stats.ranking.votes import (
    DEFAULT_DRAWS,
    DEFAULT_LEVEL,
    AbsoluteScore,
    PairwiseVote,
    _json_safe,
    _PairTable,
    _percentile_interval,
    _prompt_draws,
    _tabulate,
)

# numpy and scipy load at the first computation, not at every process start (curation.stats.lazy).
np = lazy_module("numpy")

# --------------------------------------------------------------------------------------------
# Win rates
# --------------------------------------------------------------------------------------------


def win_rates(
    votes: Sequence[PairwiseVote],
    *,
    reference: str | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
) -> dict[str, Any]:
    """Wins, ties, losses and win rate (ties as half): per model overall, head to head, and
    against ``reference``; bootstrap CIs over prompts, and a Wilson interval per pair.
    """
    table = _tabulate(votes)
    if reference is not None and reference not in table.models:
        raise ValueError(f"reference model {reference!r} does not appear in the votes")
    return _win_rates(table, _prompt_draws(len(table.prompts), draws, seed), reference, level)


def _win_rates(table: _PairTable, weights: np.ndarray, reference: str | None, level: float) -> dict[str, Any]:
    ones = np.ones((1, len(table.prompts)))

    def counts(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return w @ table.wins_i, w @ table.wins_j, w @ table.ties

    point, boot = counts(ones), counts(weights)
    first = np.eye(table.size)[table.pairs[:, 0]]  # (K, M) incidence of the first model of each pair
    second = np.eye(table.size)[table.pairs[:, 1]]

    def overall(c):
        wins_i, wins_j, ties = c
        return wins_i @ first + wins_j @ second, ties @ (first + second), wins_j @ first + wins_i @ second

    point_overall, boot_overall = overall(point), overall(boot)
    models = [
        _win_row({"model": model}, *(x[0, m] for x in point_overall), *(x[:, m] for x in boot_overall), level)
        for m, model in enumerate(table.models)
    ]
    head_to_head, against_reference = [], []
    for k, (i, j) in enumerate(table.pairs):
        pw, pl, pt = point[0][0, k], point[1][0, k], point[2][0, k]
        bw, bl, bt = boot[0][:, k], boot[1][:, k], boot[2][:, k]
        row = _win_row({"model": table.models[i], "opponent": table.models[j]}, pw, pt, pl, bw, bt, bl, level)
        head_to_head.append(row)
        if reference is not None and reference in (table.models[i], table.models[j]):
            if table.models[j] == reference:
                against_reference.append(row)
            else:
                flipped = {"model": table.models[j], "opponent": reference}
                against_reference.append(_win_row(flipped, pl, pt, pw, bl, bt, bw, level))
    head_to_head.sort(key=lambda r: (r["model"], r["opponent"]))
    against_reference.sort(key=lambda r: r["model"])
    return _json_safe(
        {
            "method": "ties count as half a win; percentile bootstrap over prompts; Wilson interval per pair",
            "level": level,
            "draws": int(weights.shape[0]),
            "reference": reference,
            "models": models,
            "head_to_head": head_to_head,
            "against_reference": against_reference if reference is not None else None,
        }
    )


def _win_row(
    row: dict[str, Any],
    wins: float,
    ties: float,
    losses: float,
    boot_wins: np.ndarray,
    boot_ties: np.ndarray,
    boot_losses: np.ndarray,
    level: float,
) -> dict[str, Any]:
    n = wins + ties + losses
    boot_n = boot_wins + boot_ties + boot_losses
    with np.errstate(invalid="ignore", divide="ignore"):
        boot_rate = (boot_wins + 0.5 * boot_ties) / boot_n
    low, high = _percentile_interval(boot_rate, level, lowest=0.0, highest=1.0)
    wilson_low, wilson_high = wilson_interval(wins + 0.5 * ties, n, level)
    return row | {
        "wins": int(wins),
        "ties": int(ties),
        "losses": int(losses),
        "votes": int(n),
        "win_rate": (wins + 0.5 * ties) / n if n else None,
        "ci_low": low,
        "ci_high": high,
        "wilson_low": wilson_low,
        "wilson_high": wilson_high,
    }


def wilson_interval(successes: float, n: float, level: float = DEFAULT_LEVEL) -> tuple[float | None, float | None]:
    """Wilson score interval for a proportion, with ties passed in as half successes.

    An alternative to the bootstrap for a single pair with few prompts. It treats every vote as
    independent, so it is too narrow when one prompt carries several votes.
    """
    from scipy import stats  # scipy.stats takes over a second to import: only when used

    if n <= 0:
        return None, None
    z = stats.norm.ppf(0.5 + level / 2.0)
    p = successes / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


# --------------------------------------------------------------------------------------------
# Absolute mode
# --------------------------------------------------------------------------------------------


def absolute_scores(
    scores: Sequence[AbsoluteScore],
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
) -> list[dict[str, Any]]:
    """Mean score per model and axis with a percentile bootstrap CI over prompts.

    All models and axes share the same resampled prompts, so their intervals are comparable.
    """
    if not scores:
        raise ValueError("no scores to analyse")
    for s in scores:
        if not math.isfinite(float(s.score)):
            raise ValueError(f"score for {s.model!r} on {s.prompt!r} ({s.axis}) is not a finite number")
    prompts = sorted({s.prompt for s in scores})
    groups = sorted({(s.model, s.axis) for s in scores})
    prompt_index = {p: n for n, p in enumerate(prompts)}
    group_index = {g: n for n, g in enumerate(groups)}
    sums = np.zeros((len(prompts), len(groups)))
    counts = np.zeros_like(sums)
    rows = np.array([prompt_index[s.prompt] for s in scores])
    cols = np.array([group_index[(s.model, s.axis)] for s in scores])
    np.add.at(sums, (rows, cols), np.array([float(s.score) for s in scores]))
    np.add.at(counts, (rows, cols), 1.0)
    weights = _prompt_draws(len(prompts), draws, seed)
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = (weights @ sums) / (weights @ counts)
    result = []
    for g, (model, axis) in enumerate(groups):
        observed = [float(s.score) for s in scores if (s.model, s.axis) == (model, axis)]
        low, high = _percentile_interval(boot[:, g], level, lowest=min(observed), highest=max(observed))
        result.append(
            {
                "model": model,
                "axis": axis,
                "mean": sums[:, g].sum() / counts[:, g].sum(),
                "ci_low": low,
                "ci_high": high,
                "scores": int(counts[:, g].sum()),
                "prompts": int((counts[:, g] > 0).sum()),
            }
        )
    return _json_safe(result)
