"""Votes, their tabulation by prompt, bootstrap draws over prompts, and the interval helpers shared here."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from curation.stats.lazy import lazy_module

# numpy and scipy load at the first computation, not at every process start (curation.stats.lazy).
np = lazy_module("numpy")


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
# Helpers
# --------------------------------------------------------------------------------------------


def _percentile_interval(
    values: np.ndarray, level: float, lowest: float = -math.inf, highest: float = math.inf
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
