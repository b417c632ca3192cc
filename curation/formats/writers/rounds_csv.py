"""A round's results and votes as CSV lines, every cell through the release files' formula guard.

The results file has one row per number the results page shows; the votes file is what
`manage.py rank_models --votes` reads, so an analyst gets the page's numbers back from it.
"""

from collections.abc import Iterable, Iterator
from typing import Any

from curation.formats.writers.encoding import csv_line
from curation.stats.ranking import PairwiseVote

RESULT_COLUMNS = ["section", "axis", "model", "opponent", "statistic", "value", "ci_low", "ci_high", "n"]
VOTE_COLUMNS = ["prompt", "model_a", "model_b", "winner", "length_a", "length_b", "a_side"]


def _estimate(section: str, axis: str, row: dict, statistic: str, n: str, model: str = "", opponent: str = "") -> list:
    """A statistic with its confidence interval, from a row of curation.stats.ranking's results."""
    return [section, axis, model, opponent, statistic, row[statistic], row["ci_low"], row["ci_high"], row[n]]


def _pairwise_axis_rows(axis: dict[str, Any]) -> Iterator[list[Any]]:
    key = axis["axis"]
    for r in axis["bradley_terry"]["ratings"]:
        yield _estimate("elo", key, r, "rating", "votes", model=r["model"])
    win_rates = axis["win_rates"]
    for r in win_rates["models"]:
        yield _estimate("win_rate", key, r, "win_rate", "votes", model=r["model"])
        for statistic in ("wins", "ties", "losses"):
            yield ["win_rate", key, r["model"], "", statistic, r[statistic], "", "", r["votes"]]
    for section in ("head_to_head", "against_reference"):
        for r in win_rates.get(section) or []:
            yield _estimate(section, key, r, "win_rate", "votes", model=r["model"], opponent=r["opponent"])
    yield _estimate("position_bias", key, axis["position_bias"], "left_win_share", "decisive")
    yield _estimate("length_bias", key, axis["length_bias"], "longer_win_rate", "votes")


def results_csv_rows(results: dict[str, Any]) -> list[list[Any]]:
    """One row per number: section, axis, model, opponent, statistic, value, CI and count (unguarded cells)."""
    rows: list[list[Any]] = [RESULT_COLUMNS]
    for s in results["scores"]:
        rows.append(_estimate("mean_score", s["axis"], s, "mean", "scores", model=s["model"]))
    for axis in results["axes"]:
        if axis.get("bradley_terry"):
            rows.extend(_pairwise_axis_rows(axis))
    rows.extend(_rubric_rows(results.get("rubric")))
    return rows


def _rubric_rows(board: dict[str, Any] | None) -> Iterator[list[Any]]:
    """A rubric round's leaderboard: each model's score overall, per axis and per theme, with its interval."""
    for m in (board or {}).get("models", []):
        cells = [("overall", m["overall"]), *m["by_axis"].items(), *m["by_theme"].items()]
        for axis, score in cells:
            yield [
                "rubric_score",
                axis,
                m["model"],
                "",
                "score",
                score["value"],
                score["ci_low"],
                score["ci_high"],
                score["n"],
            ]


def results_csv_lines(results: dict[str, Any]) -> Iterator[bytes]:
    """`results_csv_rows` as CSV lines, a cell a spreadsheet would run as a formula neutralised."""
    for row in results_csv_rows(results):
        yield csv_line(row)


def votes_csv_lines(votes: Iterable[PairwiseVote]) -> Iterator[bytes]:
    yield csv_line(VOTE_COLUMNS)
    for v in votes:
        yield csv_line([v.prompt, v.model_a, v.model_b, v.winner, int(v.length_a), int(v.length_b), v.a_side])
