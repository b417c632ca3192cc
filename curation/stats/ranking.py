"""Pairwise ranking of models: Bradley-Terry ratings, win rates and bias diagnostics.

Pure numpy/scipy, so the round results page, the API, the export and ``manage.py rank_models`` all
compute the same numbers from the same votes.

Conventions
-----------
* A vote is one judgment of two answers to one prompt; ``winner`` is ``"a"``, ``"b"`` or ``"tie"``.
  A tie counts as half a win for each side everywhere: ratings, win rates and length bias. Verdicts
  such as "both bad" are mapped (to a tie, or dropped) by the caller before they reach this module.
  Each call analyses one axis; the caller groups votes by axis.
* Bradley-Terry on the Elo scale: P(i beats j) = 1 / (1 + 10 ** (-(R_i - R_j) / 400)). Ratings are
  the exact maximum-likelihood estimate (Newton's method with step halving on the log-likelihood,
  one rating held fixed for identifiability): no prior and no L2 shrinkage, so A beating B 3 times
  in 4 gives a gap of exactly 400 * log10(3).
* Anchor: with a reference model, the reference is rated 1000; without one, the mean rating of the
  anchor group (see below) is 1000. Only differences between ratings carry information.
* The MLE exists only when the "beat" graph (an edge i -> j when i won, or tied, at least once
  against j) is strongly connected. Otherwise ratings are finite only inside the anchor group: the
  strongly connected component of the reference, or without a reference the largest component.
  A model that beat the anchor group (directly or through a chain of wins) and was never beaten by
  it, even indirectly, has a rating of +infinity; the mirror case -infinity; a model whose votes do
  not order it against the anchor group (or that no chain of comparisons links to it) is undefined.
  Such ratings are reported as ``None`` with a ``status`` and a ``reason``, never as a huge number.
  The finite ratings are the limit of the likelihood-maximising sequence: the votes that cross
  between components are all won by the same side, so their likelihood tends to 1 and does not
  constrain the ratings inside the anchor group.
* Confidence intervals are percentile intervals from a bootstrap that resamples prompts (clusters)
  with replacement, so several votes on the same prompt are never treated as independent. Draws
  come from ``numpy.random.default_rng(seed)``: the same votes and seed give the same intervals.
  A bootstrap draw can itself lack an MLE (a rarely compared model may win every comparison in the
  draw); those draws count as +/-infinity in the percentiles, so an interval can be unbounded on
  one side, reported as ``None`` next to the number of such draws. A draw in which a quantity is
  undefined (a model absent from every resampled prompt) counts at both extremes, for the lower
  and for the upper bound: the interval is widened rather than silently conditioned on the draws
  that happened to be informative.
* Every public function returns JSON-safe data (``json.dumps(..., allow_nan=False)`` succeeds): a
  number that does not exist is ``None`` with a reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats
from scipy.special import expit, log_expit

ELO_SCALE = 400.0 / math.log(10.0)
BASE_RATING = 1000.0
DEFAULT_DRAWS = 1000
DEFAULT_LEVEL = 0.95
WINNERS = ("a", "b", "tie")
SIDES = ("left", "right")

ESTIMATED = "estimated"
PLUS_INFINITY = "plus_infinity"
MINUS_INFINITY = "minus_infinity"
UNDEFINED = "undefined"

_SCORE_A = {"a": 1.0, "b": 0.0, "tie": 0.5}
# Newton converges quadratically; the cap only guards against a pathological input.
_MAX_NEWTON_STEPS = 200
_MAX_HALVINGS = 60
_STEP_TOLERANCE = 1e-10
# Draws are processed in blocks so that per-draw matrices stay small for large rounds.
_DRAW_BLOCK = 250
_VOTE_BLOCK = 100


@dataclass(frozen=True)
class PairwiseVote:
    """One judgment: which of two answers to ``prompt`` was better.

    ``length_a``/``length_b`` (any unit, e.g. characters) feed the length-bias diagnostic and
    ``a_side`` ("left" or "right", where model_a's answer was shown) the position-bias diagnostic.
    """

    prompt: str
    model_a: str
    model_b: str
    winner: str
    length_a: float | None = None
    length_b: float | None = None
    a_side: str | None = None

    def __post_init__(self) -> None:
        if self.winner not in WINNERS:
            raise ValueError(f"winner must be one of a, b, tie (got {self.winner!r})")
        if self.model_a == self.model_b:
            raise ValueError(f"model {self.model_a!r} is compared with itself")
        if self.a_side is not None and self.a_side not in SIDES:
            raise ValueError(f"a_side must be left or right (got {self.a_side!r})")

    @property
    def score_a(self) -> float:
        return _SCORE_A[self.winner]


@dataclass(frozen=True)
class AbsoluteScore:
    """One rating of one model's answer to one prompt on one axis (absolute mode)."""

    prompt: str
    model: str
    axis: str
    score: float


# --------------------------------------------------------------------------------------------
# Tabulation and bootstrap draws
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PairTable:
    """Votes counted per prompt and per compared pair (i < j), the sufficient statistics."""

    models: tuple[str, ...]
    prompts: tuple[str, ...]
    pairs: np.ndarray  # (K, 2) model indices, first < second
    wins_i: np.ndarray  # (P, K) votes won by pairs[k, 0]
    wins_j: np.ndarray  # (P, K) votes won by pairs[k, 1]
    ties: np.ndarray  # (P, K)

    @property
    def size(self) -> int:
        return len(self.models)


def _tabulate(votes: Sequence[PairwiseVote]) -> _PairTable:
    if not votes:
        raise ValueError("no votes to analyse")
    models = tuple(sorted({v.model_a for v in votes} | {v.model_b for v in votes}))
    prompts = tuple(sorted({v.prompt for v in votes}))
    model_index = {m: n for n, m in enumerate(models)}
    prompt_index = {p: n for n, p in enumerate(prompts)}
    pair_index: dict[tuple[int, int], int] = {}
    rows, cols, outcome = [], [], []
    for vote in votes:
        i, j, s = model_index[vote.model_a], model_index[vote.model_b], vote.score_a
        if i > j:
            i, j, s = j, i, 1.0 - s
        rows.append(prompt_index[vote.prompt])
        cols.append(pair_index.setdefault((i, j), len(pair_index)))
        outcome.append(s)
    rows_a, cols_a, outcome_a = np.array(rows), np.array(cols), np.array(outcome)
    shape = (len(prompts), len(pair_index))
    counts = []
    for value in (1.0, 0.0, 0.5):
        table = np.zeros(shape)
        hit = outcome_a == value
        np.add.at(table, (rows_a[hit], cols_a[hit]), 1.0)
        counts.append(table)
    pairs = np.array(list(pair_index), dtype=int).reshape(-1, 2)
    return _PairTable(models, prompts, pairs, *counts)


def _prompt_draws(n_prompts: int, draws: int, seed: int) -> np.ndarray:
    """(draws, n_prompts) multiplicities of each prompt in each bootstrap resample."""
    if draws < 1:
        raise ValueError("draws must be at least 1")
    rng = np.random.default_rng(seed)
    return rng.multinomial(n_prompts, np.full(n_prompts, 1.0 / n_prompts), size=draws).astype(float)


def _half_win_matrices(table: _PairTable, weights: np.ndarray) -> np.ndarray:
    """(B, M, M) matrices W[b, i, j] = wins of i over j, ties as half, under prompt ``weights``."""
    half_ties = 0.5 * (weights @ table.ties)
    matrices = np.zeros((weights.shape[0], table.size, table.size))
    first, second = table.pairs[:, 0], table.pairs[:, 1]
    matrices[:, first, second] = weights @ table.wins_i + half_ties
    matrices[:, second, first] = weights @ table.wins_j + half_ties
    return matrices


def _closure(edges: np.ndarray) -> np.ndarray:
    """Reflexive-transitive closure of a stack of (B, M, M) boolean adjacency matrices."""
    size = edges.shape[-1]
    reach = edges | np.eye(size, dtype=bool)
    for _ in range(max(1, math.ceil(math.log2(size)))):
        as_float = reach.astype(float)
        reach = (as_float @ as_float) > 0
    return reach


# --------------------------------------------------------------------------------------------
# Bradley-Terry maximum likelihood
# --------------------------------------------------------------------------------------------


def _log_likelihood(wins: np.ndarray, theta: np.ndarray) -> np.ndarray:
    return (wins * log_expit(theta[:, :, None] - theta[:, None, :])).sum(axis=(1, 2))


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
        p = expit(theta[:, :, None] - theta[:, None, :])
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
    rows = []
    for m, model in enumerate(table.models):
        status = _status(point[m])
        low, high = _percentile_interval(boot[:, m], level) if status == ESTIMATED else (np.nan, np.nan)
        column = boot[:, m]
        rows.append(
            {
                "model": model,
                "rating": point[m],
                "status": status,
                "reason": _rating_reason(status, bool(connected[m])),
                "ci_low": low,
                "ci_high": high,
                "ci_note": _interval_note(column) if status == ESTIMATED else None,
                "draws": {
                    "finite": int(np.isfinite(column).sum()),
                    PLUS_INFINITY: int(np.isposinf(column).sum()),
                    MINUS_INFINITY: int(np.isneginf(column).sum()),
                    UNDEFINED: int(np.isnan(column).sum()),
                },
                "votes": int(comparisons[m].sum()),
            }
        )
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
        p = expit(b[:, None] * x)
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


# --------------------------------------------------------------------------------------------
# Everything for one axis
# --------------------------------------------------------------------------------------------


def pairwise_results(
    votes: Sequence[PairwiseVote],
    *,
    reference: str | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
) -> dict[str, Any]:
    """Ratings, win rates and bias diagnostics for one axis, all from the same bootstrap draws."""
    table = _tabulate(votes)
    if reference is not None and reference not in table.models:
        raise ValueError(f"reference model {reference!r} does not appear in the votes")
    weights = _prompt_draws(len(table.prompts), draws, seed)
    return {
        "votes": len(votes),
        "prompts": len(table.prompts),
        "models": list(table.models),
        "bradley_terry": _bradley_terry(table, weights, reference, level, seed),
        "win_rates": _win_rates(table, weights, reference, level),
        "position_bias": position_bias(votes, draws=draws, seed=seed, level=level),
        "length_bias": length_bias(votes, draws=draws, seed=seed, level=level),
    }


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _percentile_interval(
    values: np.ndarray, level: float, lowest: float = -np.inf, highest: float = np.inf
) -> tuple[float, float]:
    """Percentile interval over bootstrap draws, conservative about draws without a value.

    A NaN draw (the quantity does not exist in that resample, e.g. a model absent from every
    resampled prompt) counts as ``lowest`` for the lower bound and ``highest`` for the upper bound,
    so the interval covers whatever value that draw could have had. Infinite draws keep their place
    in the order.
    """
    missing = np.isnan(values)
    if missing.all():
        return np.nan, np.nan
    tail = (1.0 - level) / 2.0
    low = _sorted_quantile(np.sort(np.where(missing, lowest, values)), tail)
    high = _sorted_quantile(np.sort(np.where(missing, highest, values)), 1.0 - tail)
    return low, high


def _sorted_quantile(ordered: np.ndarray, q: float) -> float:
    """Linear-interpolation quantile (numpy's default) that stays correct next to infinite draws."""
    position = (ordered.size - 1) * q
    below = math.floor(position)
    above = min(below + 1, ordered.size - 1)
    fraction = position - below
    low, high = float(ordered[below]), float(ordered[above])
    if fraction == 0.0 or low == high:
        return low
    if math.isfinite(low) and math.isfinite(high):
        return low + fraction * (high - low)
    if math.isinf(low) and math.isinf(high):
        return low if q < 0.5 else high
    return low if math.isinf(low) else high


def _json_safe(value: Any) -> Any:
    """Plain Python containers and numbers, with every NaN or infinity turned into None."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value
