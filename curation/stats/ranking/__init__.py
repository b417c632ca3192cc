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
  number that does not exist is ``None`` with a reason."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from curation.stats.ranking.bias import length_bias, position_bias
from curation.stats.ranking.bradley_terry import _bradley_terry, bradley_terry
from curation.stats.ranking.votes import (
    BASE_RATING,
    DEFAULT_DRAWS,
    DEFAULT_LEVEL,
    ELO_SCALE,
    ESTIMATED,
    MINUS_INFINITY,
    PLUS_INFINITY,
    SIDES,
    UNDEFINED,
    WINNERS,
    AbsoluteScore,
    PairwiseVote,
    _prompt_draws,
    _tabulate,
)
from curation.stats.ranking.win_rates import _win_rates, absolute_scores, wilson_interval, win_rates

__all__ = [
    "BASE_RATING",
    "DEFAULT_DRAWS",
    "DEFAULT_LEVEL",
    "ELO_SCALE",
    "ESTIMATED",
    "MINUS_INFINITY",
    "PLUS_INFINITY",
    "SIDES",
    "UNDEFINED",
    "WINNERS",
    "AbsoluteScore",
    "PairwiseVote",
    "absolute_scores",
    "bradley_terry",
    "length_bias",
    "pairwise_results",
    "position_bias",
    "wilson_interval",
    "win_rates",
]


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
