"""The ranking engine: Bradley-Terry on the Elo scale, win rates, absolute means and bias diagnostics."""

import json
import math

import numpy as np
import pytest
from scipy.optimize import minimize, minimize_scalar

from curation.stats.ranking import (
    MINUS_INFINITY,
    PLUS_INFINITY,
    UNDEFINED,
    AbsoluteScore,
    PairwiseVote,
    absolute_scores,
    bradley_terry,
    length_bias,
    pairwise_results,
    position_bias,
    wilson_interval,
    win_rates,
)

DRAWS = 300


def votes_from(counts: dict[tuple[str, str], tuple[int, int, int]], start: int = 0) -> list[PairwiseVote]:
    """One vote per prompt: {(a, b): (wins of a, ties, wins of b)}."""
    votes, prompt = [], start
    for (a, b), (wins, ties, losses) in counts.items():
        for winner, n in (("a", wins), ("tie", ties), ("b", losses)):
            for _ in range(n):
                votes.append(PairwiseVote(f"p{prompt}", a, b, winner))
                prompt += 1
    return votes


def ratings_of(result: dict) -> dict[str, dict]:
    return {row["model"]: row for row in result["ratings"]}


def simulated_votes(strengths: dict[str, float], prompts: int, seed: int = 3) -> list[PairwiseVote]:
    """Every pair on every prompt, sides and label order random, 10% ties."""
    rng = np.random.default_rng(seed)
    names = sorted(strengths)
    votes = []
    for p in range(prompts):
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                a, b = (first, second) if rng.random() < 0.5 else (second, first)
                p_a = 0.9 / (1.0 + math.exp(strengths[b] - strengths[a]))
                u = rng.random()
                winner = "a" if u < p_a else "tie" if u < p_a + 0.1 else "b"
                votes.append(
                    PairwiseVote(
                        f"p{p}",
                        a,
                        b,
                        winner,
                        length_a=float(rng.integers(100, 1500)),
                        length_b=float(rng.integers(100, 1500)),
                        a_side="left" if rng.random() < 0.5 else "right",
                    )
                )
    return votes


def assert_same_numbers(first, second):
    """Equal structures, floats equal up to rounding in the last digits."""
    if isinstance(first, dict):
        assert first.keys() == second.keys()
        for key in first:
            assert_same_numbers(first[key], second[key])
    elif isinstance(first, list):
        assert len(first) == len(second)
        for one, two in zip(first, second, strict=True):
            assert_same_numbers(one, two)
    elif isinstance(first, float):
        assert second == pytest.approx(first, rel=1e-9, abs=1e-9)
    else:
        assert first == second


def swapped(votes: list[PairwiseVote]) -> list[PairwiseVote]:
    flip = {"a": "b", "b": "a", "tie": "tie", "left": "right", "right": "left", None: None}
    return [
        PairwiseVote(v.prompt, v.model_b, v.model_a, flip[v.winner], v.length_b, v.length_a, flip[v.a_side])
        for v in votes
    ]


# Analytic values ------------------------------------------------------------------------------


def test_a_beating_b_three_times_in_four_gives_an_elo_gap_of_400_log10_3():
    result = bradley_terry(votes_from({("A", "B"): (3, 0, 1)}), draws=DRAWS)
    ratings = ratings_of(result)
    assert ratings["A"]["rating"] - ratings["B"]["rating"] == pytest.approx(400 * math.log10(3), abs=1e-6)
    assert ratings["A"]["rating"] - ratings["B"]["rating"] == pytest.approx(190.85, abs=0.005)


def test_ties_count_as_half_a_win_for_each_side():
    result = bradley_terry(votes_from({("A", "B"): (2, 2, 1)}), draws=DRAWS)
    ratings = ratings_of(result)
    assert ratings["A"]["rating"] - ratings["B"]["rating"] == pytest.approx(400 * math.log10(1.5), abs=1e-6)
    assert ratings["A"]["rating"] - ratings["B"]["rating"] == pytest.approx(70.44, abs=0.005)


def test_without_a_reference_the_mean_rating_is_1000():
    ratings = ratings_of(bradley_terry(votes_from({("A", "B"): (3, 0, 1)}), draws=DRAWS))
    assert ratings["A"]["rating"] == pytest.approx(1000 + 200 * math.log10(3))
    assert ratings["B"]["rating"] == pytest.approx(1000 - 200 * math.log10(3))


def test_the_reference_model_is_rated_1000_with_a_degenerate_interval():
    result = bradley_terry(votes_from({("A", "B"): (3, 0, 1)}), reference="B", draws=DRAWS)
    ratings = ratings_of(result)
    assert result["anchor"] == {
        "kind": "reference",
        "models": ["B"],
        "rating": 1000.0,
        "description": "B is rated 1000",
    }
    assert (ratings["B"]["rating"], ratings["B"]["ci_low"], ratings["B"]["ci_high"]) == (1000.0, 1000.0, 1000.0)
    assert ratings["A"]["rating"] == pytest.approx(1000 + 400 * math.log10(3))


def test_three_models_match_a_direct_maximisation_of_the_likelihood():
    counts = {("A", "B"): (7, 2, 3), ("B", "C"): (6, 1, 4), ("A", "C"): (8, 3, 2)}
    ratings = ratings_of(bradley_terry(votes_from(counts), reference="C", draws=DRAWS))

    index = {"A": 0, "B": 1, "C": 2}

    def negative_log_likelihood(free: np.ndarray) -> float:
        theta = np.append(free, 0.0)  # C fixed at 0
        total = 0.0
        for (a, b), (wins, ties, losses) in counts.items():
            gap = theta[index[a]] - theta[index[b]]
            total += (wins + ties / 2) * np.logaddexp(0, -gap) + (losses + ties / 2) * np.logaddexp(0, gap)
        return total

    fit = minimize(negative_log_likelihood, np.zeros(2), method="BFGS", options={"gtol": 1e-10})
    expected = 1000 + 400 / math.log(10) * fit.x
    assert ratings["A"]["rating"] == pytest.approx(expected[0], abs=1e-3)
    assert ratings["B"]["rating"] == pytest.approx(expected[1], abs=1e-3)
    assert ratings["A"]["rating"] > ratings["B"]["rating"] > ratings["C"]["rating"]


# Properties -----------------------------------------------------------------------------------


def test_swapping_the_a_and_b_labels_changes_no_number():
    votes = simulated_votes({"x": 0.5, "y": 0.0, "z": -0.4}, prompts=40)
    assert_same_numbers(pairwise_results(swapped(votes), draws=DRAWS), pairwise_results(votes, draws=DRAWS))


def test_the_same_seed_gives_the_same_intervals_and_another_seed_other_ones():
    votes = simulated_votes({"x": 0.5, "y": 0.0, "z": -0.4}, prompts=40)
    first = bradley_terry(votes, draws=DRAWS, seed=11)
    assert bradley_terry(votes, draws=DRAWS, seed=11) == first
    assert bradley_terry(votes, draws=DRAWS, seed=12)["ratings"] != first["ratings"]


def test_every_interval_contains_its_estimate_and_ranks_follow_the_true_strengths():
    votes = simulated_votes({"x": 1.0, "y": 0.3, "z": -0.5, "w": -1.0}, prompts=60)
    result = pairwise_results(votes, draws=DRAWS)
    rows = result["bradley_terry"]["ratings"]
    assert [row["model"] for row in rows] == ["x", "y", "z", "w"]
    for row in rows:
        assert row["ci_low"] <= row["rating"] <= row["ci_high"]
    for row in result["win_rates"]["models"] + result["win_rates"]["head_to_head"]:
        assert row["ci_low"] <= row["win_rate"] <= row["ci_high"]


def test_the_bootstrap_resamples_prompts_not_votes():
    """Repeating every vote within its prompt adds no information, so nothing may change."""
    votes = simulated_votes({"x": 0.5, "y": 0.0, "z": -0.4}, prompts=30)
    single = bradley_terry(votes, draws=DRAWS)
    doubled = bradley_terry(votes + votes, draws=DRAWS)
    for one, two in zip(single["ratings"], doubled["ratings"], strict=True):
        for key in ("rating", "ci_low", "ci_high"):
            assert two[key] == pytest.approx(one[key], abs=1e-6)


def test_results_are_json_without_nan_or_infinity_even_when_ratings_do_not_exist():
    votes = votes_from({("A", "B"): (3, 0, 0), ("C", "D"): (1, 1, 1)})
    result = pairwise_results(votes, draws=DRAWS)
    text = json.dumps(result, allow_nan=False)
    assert "NaN" not in text and "Infinity" not in text


# Ratings that do not exist --------------------------------------------------------------------


def test_a_model_that_won_every_comparison_is_plus_infinity_not_a_huge_number():
    counts = {("A", "B"): (4, 1, 3), ("B", "C"): (3, 2, 3), ("A", "C"): (3, 0, 4), ("top", "A"): (3, 0, 0)}
    ratings = ratings_of(bradley_terry(votes_from(counts), draws=DRAWS))
    top = ratings["top"]
    assert top["status"] == PLUS_INFINITY
    assert top["rating"] is None and top["ci_low"] is None and top["ci_high"] is None
    assert "+infinity" in top["reason"]
    assert all(ratings[m]["status"] == "estimated" for m in "ABC")
    # The other ratings are the fit without "top": its votes are all won by one side.
    alone = ratings_of(bradley_terry(votes_from({k: v for k, v in counts.items() if "top" not in k}), draws=DRAWS))
    for m in "ABC":
        assert ratings[m]["rating"] == pytest.approx(alone[m]["rating"], abs=1e-6)


def test_a_model_that_lost_every_comparison_is_minus_infinity():
    counts = {("A", "B"): (2, 0, 1), ("bottom", "A"): (0, 0, 2), ("bottom", "B"): (0, 0, 2)}
    ratings = ratings_of(bradley_terry(votes_from(counts), draws=DRAWS))
    assert ratings["bottom"]["status"] == MINUS_INFINITY
    assert ratings["bottom"]["rating"] is None
    assert "-infinity" in ratings["bottom"]["reason"]


def test_against_a_reference_that_lost_every_vote_the_winner_is_plus_infinity():
    ratings = ratings_of(bradley_terry(votes_from({("A", "B"): (4, 0, 0)}), reference="B", draws=DRAWS))
    assert ratings["B"]["rating"] == 1000.0
    assert ratings["A"]["status"] == PLUS_INFINITY


def test_models_in_a_separate_comparison_graph_are_undefined():
    counts = {("A", "B"): (2, 1, 1), ("B", "C"): (1, 0, 2), ("A", "C"): (2, 0, 1), ("D", "E"): (2, 0, 1)}
    ratings = ratings_of(bradley_terry(votes_from(counts), draws=DRAWS))
    assert all(ratings[m]["status"] == "estimated" for m in "ABC")
    for m in "DE":
        assert ratings[m]["status"] == UNDEFINED
        assert ratings[m]["rating"] is None
        assert "no chain of comparisons" in ratings[m]["reason"]


def test_a_model_only_compared_with_a_common_loser_is_not_ordered_against_the_others():
    counts = {("A", "B"): (2, 0, 1), ("A", "loser"): (2, 0, 0), ("X", "loser"): (3, 0, 0)}
    ratings = ratings_of(bradley_terry(votes_from(counts), reference="A", draws=DRAWS))
    assert ratings["X"]["status"] == UNDEFINED
    assert "do not order it" in ratings["X"]["reason"]
    assert ratings["loser"]["status"] == MINUS_INFINITY


def test_an_interval_is_open_on_the_side_where_some_draws_have_no_finite_rating():
    # With four prompts, a resample without B's single win happens in about a third of the draws.
    ratings = ratings_of(bradley_terry(votes_from({("A", "B"): (3, 0, 1)}), reference="B", draws=DRAWS))
    a = ratings["A"]
    assert a["status"] == "estimated"
    assert a["ci_low"] is not None and a["ci_low"] < a["rating"]
    assert a["ci_high"] is None
    assert a["draws"][PLUS_INFINITY] > 0.025 * DRAWS
    assert "+infinity" in a["ci_note"]


# Win rates ------------------------------------------------------------------------------------


def test_win_rates_count_ties_as_half_per_pair_per_model_and_against_the_reference():
    counts = {("A", "B"): (2, 2, 1), ("C", "A"): (1, 0, 3)}
    result = win_rates(votes_from(counts), reference="A", draws=DRAWS)
    head = {(r["model"], r["opponent"]): r for r in result["head_to_head"]}
    assert head[("A", "B")] | {"ci_low": None, "ci_high": None, "wilson_low": None, "wilson_high": None} == {
        "model": "A",
        "opponent": "B",
        "wins": 2,
        "ties": 2,
        "losses": 1,
        "votes": 5,
        "win_rate": 0.6,
        "ci_low": None,
        "ci_high": None,
        "wilson_low": None,
        "wilson_high": None,
    }
    assert head[("A", "C")]["wins"] == 3 and head[("A", "C")]["losses"] == 1
    against = {r["model"]: r for r in result["against_reference"]}
    assert set(against) == {"B", "C"}
    assert (against["B"]["wins"], against["B"]["ties"], against["B"]["losses"]) == (1, 2, 2)
    assert against["B"]["win_rate"] == pytest.approx(0.4)
    assert against["C"]["win_rate"] == pytest.approx(0.25)
    overall = {r["model"]: r for r in result["models"]}
    assert (overall["A"]["wins"], overall["A"]["ties"], overall["A"]["losses"]) == (5, 2, 2)
    assert overall["A"]["win_rate"] == pytest.approx(6 / 9)


def test_wilson_interval_matches_newcombes_worked_example():
    # Newcombe (1998), Statistics in Medicine 17:857-872, example 81/263: 0.2553 to 0.3662.
    low, high = wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


def test_wilson_interval_of_nothing_is_undefined():
    assert wilson_interval(0, 0) == (None, None)


# Absolute mode --------------------------------------------------------------------------------


def test_absolute_mode_gives_the_mean_per_model_and_axis_with_an_interval_over_prompts():
    scores = [
        AbsoluteScore(f"p{p}", model, axis, value)
        for p in range(20)
        for model, axis, value in (
            ("A", "correctness", 4 + p % 2),
            ("A", "helpfulness", 3),
            ("B", "correctness", 2 + p % 3),
        )
    ]
    rows = {(r["model"], r["axis"]): r for r in absolute_scores(scores, draws=DRAWS)}
    assert rows[("A", "correctness")]["mean"] == pytest.approx(4.5)
    assert rows[("A", "helpfulness")] | {"ci_low": None, "ci_high": None} == {
        "model": "A",
        "axis": "helpfulness",
        "mean": 3.0,
        "ci_low": None,
        "ci_high": None,
        "scores": 20,
        "prompts": 20,
    }
    assert (rows[("A", "helpfulness")]["ci_low"], rows[("A", "helpfulness")]["ci_high"]) == (3.0, 3.0)
    b = rows[("B", "correctness")]
    assert b["mean"] == pytest.approx(np.mean([2 + p % 3 for p in range(20)]))
    assert 2 <= b["ci_low"] < b["mean"] < b["ci_high"] <= 4


def test_absolute_mode_rejects_a_score_that_is_not_a_number():
    with pytest.raises(ValueError, match="not a finite number"):
        absolute_scores([AbsoluteScore("p", "A", "correctness", float("nan"))], draws=DRAWS)


# Bias diagnostics -----------------------------------------------------------------------------


def test_position_bias_is_the_share_of_decisive_votes_won_by_the_left_answer():
    votes = [
        PairwiseVote("p1", "A", "B", "a", a_side="left"),  # left won
        PairwiseVote("p2", "A", "B", "b", a_side="right"),  # left (B) won
        PairwiseVote("p3", "A", "B", "b", a_side="left"),  # right won
        PairwiseVote("p4", "A", "B", "tie", a_side="left"),  # not decisive
        PairwiseVote("p5", "A", "B", "a"),  # side unknown
    ]
    result = position_bias(votes, draws=DRAWS)
    assert (result["votes"], result["votes_without_side"], result["ties"]) == (4, 1, 1)
    assert (result["decisive"], result["left_wins"]) == (3, 2)
    assert result["left_win_share"] == pytest.approx(2 / 3)
    assert result["ci_low"] <= 2 / 3 <= result["ci_high"]
    assert result["p_value"] == pytest.approx(1.0)


def test_position_bias_without_sides_says_why_it_is_missing():
    result = position_bias(votes_from({("A", "B"): (1, 0, 1)}), draws=DRAWS)
    assert result["left_win_share"] is None
    assert "side" in result["reason"]


def test_length_bias_slope_is_the_maximum_likelihood_logistic_slope():
    votes = simulated_votes({"x": 0.3, "y": 0.0}, prompts=80)
    result = length_bias(votes, draws=DRAWS)
    x = np.array([(v.length_a - v.length_b) / 100 for v in votes])
    y = np.array([v.score_a for v in votes])

    def negative_log_likelihood(beta: float) -> float:
        return float(np.sum(y * np.logaddexp(0, -beta * x) + (1 - y) * np.logaddexp(0, beta * x)))

    expected = minimize_scalar(negative_log_likelihood, bounds=(-5, 5), method="bounded", options={"xatol": 1e-10})
    assert result["slope"] == pytest.approx(expected.x, abs=1e-6)
    assert result["slope_ci_low"] <= result["slope"] <= result["slope_ci_high"]
    assert result["odds_ratio_per_unit"] == pytest.approx(math.exp(result["slope"]))
    assert sum(row["votes"] for row in result["bins"]) == sum(v.length_a != v.length_b for v in votes)
    assert_same_numbers(length_bias(swapped(votes), draws=DRAWS), result)


def test_length_bias_sees_reviewers_who_prefer_longer_answers():
    rng = np.random.default_rng(5)
    votes = []
    for p in range(100):
        la, lb = float(rng.integers(100, 2000)), float(rng.integers(100, 2000))
        longer_wins = rng.random() < 0.8
        winner = "a" if (la > lb) == longer_wins else "b"
        votes.append(PairwiseVote(f"p{p}", "A", "B", winner, la, lb))
    result = length_bias(votes, draws=DRAWS)
    assert result["longer_win_rate"] > 0.7
    assert result["ci_low"] > 0.5
    assert result["slope"] > 0 and result["slope_ci_low"] > 0


def test_length_bias_when_the_longer_answer_always_wins_has_no_finite_slope():
    votes = [PairwiseVote(f"p{n}", "A", "B", "a", 200.0 + n, 100.0) for n in range(5)]
    result = length_bias(votes, draws=DRAWS)
    assert result["slope"] is None
    assert "infinite" in result["reason"]
    assert result["longer_win_rate"] == 1.0


def test_length_bias_without_lengths_says_why_it_is_missing():
    result = length_bias(votes_from({("A", "B"): (1, 0, 1)}), draws=DRAWS)
    assert result["slope"] is None and result["longer_win_rate"] is None
    assert "lengths" in result["reason"]


# Input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"winner": "both_bad"}, "winner must be one of a, b, tie"),
        ({"model_b": "A"}, "compared with itself"),
        ({"a_side": "middle"}, "a_side must be left or right"),
    ],
)
def test_a_malformed_vote_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PairwiseVote(**({"prompt": "p", "model_a": "A", "model_b": "B", "winner": "a"} | kwargs))


def test_no_votes_and_an_unknown_reference_are_refused():
    with pytest.raises(ValueError, match="no votes"):
        bradley_terry([], draws=DRAWS)
    with pytest.raises(ValueError, match="does not appear"):
        pairwise_results(votes_from({("A", "B"): (1, 0, 1)}), reference="Z", draws=DRAWS)
