"""Bradley-Terry ratings, win rates and bias diagnostics as JSON, for a CSV of pairwise votes.

    python manage.py rank_models --votes votes.csv
    python manage.py rank_models --votes votes.csv --reference gpt-4 --draws 2000 --seed 7

The CSV has the columns prompt,model_a,model_b,winner (winner one of a, b, tie), in any order, and
optionally length_a,length_b (answer lengths, for the length-bias diagnostic) and a_side (left or
right: where model_a's answer was shown, for the position-bias diagnostic).
"""

import json
import math
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from curation.management.files import csv_rows
from curation.stats.ranking import DEFAULT_DRAWS, SIDES, WINNERS, PairwiseVote, pairwise_results

REQUIRED = ("prompt", "model_a", "model_b", "winner")
OPTIONAL = ("length_a", "length_b", "a_side")


def read_votes_csv(path: Path) -> list[PairwiseVote]:
    """The votes of a CSV file.

    Raises CommandError naming the line of the first problem; nothing is computed from a bad file.
    """
    votes: list[PairwiseVote] = []
    rows = csv_rows(path)
    _, header = next(rows, (1, None))
    if header is None or all(not cell.strip() for cell in header):
        raise CommandError(f"{path}: the file is empty; expected the header {','.join(REQUIRED)}")
    columns = [cell.strip().lower() for cell in header]
    _check_header(path, columns)
    position = {name: n for n, name in enumerate(columns)}
    for line, row in rows:
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            raise CommandError(f"{path}, line {line}: expected {len(columns)} columns, found {len(row)}")
        cells = {name: row[n].strip() for name, n in position.items()}
        votes.append(_vote(path, line, cells))
    if not votes:
        raise CommandError(f"{path}: no votes after the header")
    return votes


def _check_header(path: Path, columns: list[str]) -> None:
    expected = ",".join(REQUIRED)
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise CommandError(
            f"{path}, line 1: the header must have the columns {expected} (missing {', '.join(missing)})"
        )
    unknown = [name for name in columns if name not in REQUIRED + OPTIONAL]
    if unknown:
        raise CommandError(
            f"{path}, line 1: unknown column(s) {', '.join(repr(c) for c in unknown)}; "
            f"the columns are {expected} and optionally {','.join(OPTIONAL)}"
        )
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        raise CommandError(f"{path}, line 1: repeated column(s) {', '.join(repeated)}")


def _vote(path: Path, line: int, cells: dict[str, str]) -> PairwiseVote:
    for name in REQUIRED:
        if not cells[name]:
            raise CommandError(f"{path}, line {line}: the {name} is missing")
    winner = cells["winner"].lower()
    if winner not in WINNERS:
        raise CommandError(f"{path}, line {line}: the winner must be one of a, b, tie (got {cells['winner']!r})")
    if cells["model_a"] == cells["model_b"]:
        raise CommandError(f"{path}, line {line}: model {cells['model_a']!r} is compared with itself")
    lengths = []
    for name in ("length_a", "length_b"):
        text = cells.get(name, "")
        if not text:
            lengths.append(None)
            continue
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0:
            raise CommandError(f"{path}, line {line}: {name} must be a non-negative number (got {text!r})")
        lengths.append(value)
    side = cells.get("a_side", "").lower() or None
    if side is not None and side not in SIDES:
        raise CommandError(f"{path}, line {line}: a_side must be left or right (got {cells['a_side']!r})")
    return PairwiseVote(
        prompt=cells["prompt"],
        model_a=cells["model_a"],
        model_b=cells["model_b"],
        winner=winner,
        length_a=lengths[0],
        length_b=lengths[1],
        a_side=side,
    )


class Command(BaseCommand):
    help = (
        "Print Bradley-Terry ratings (Elo scale) and win rates with bootstrap CIs over prompts as JSON, "
        "for a CSV of pairwise votes (prompt,model_a,model_b,winner)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--votes", type=Path, required=True, help="CSV with the columns prompt,model_a,model_b,winner."
        )
        parser.add_argument("--reference", help="Model rated 1000 and compared with each other model (default: none).")
        parser.add_argument(
            "--draws", type=int, default=DEFAULT_DRAWS, help=f"Bootstrap draws (default {DEFAULT_DRAWS})."
        )
        parser.add_argument("--seed", type=int, default=0, help="Bootstrap seed, for repeatable intervals.")

    def handle(self, *args, votes: Path, reference: str | None, draws: int, seed: int, **options):
        if draws < 1:
            raise CommandError("--draws must be at least 1")
        rows = read_votes_csv(votes)
        models = {v.model_a for v in rows} | {v.model_b for v in rows}
        if reference is not None and reference not in models:
            raise CommandError(
                f"--reference {reference!r} does not appear in {votes}; the models are {', '.join(sorted(models))}"
            )
        result = {"file": str(votes), **pairwise_results(rows, reference=reference, draws=draws, seed=seed)}
        self.stdout.write(json.dumps(result, indent=2, allow_nan=False))
