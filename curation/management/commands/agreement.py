"""Inter-annotator agreement as JSON, for a CSV of ratings or for a project's current reviews.

python manage.py agreement --ratings ratings.csv --level ordinal
python manage.py agreement --ratings ratings.csv --missing "NA,,-99"
python manage.py agreement --project cardio
"""

import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from curation.management.files import csv_rows
from curation.models import Project
from curation.services.agreement import project_agreement_compute
from curation.stats.agreement import DRAWS, LEVELS, SEED, agreement_report, rater_breakdown, ratings_from_rows

HEADER = ["unit", "rater", "value"]
# How spreadsheets and statistics packages write "not rated"; matched case-insensitively, "" is an empty cell.
MISSING = ("", "NA", "N/A", ".", "null", "-")

Label = float | str


@dataclass(frozen=True)
class RatingsFile:
    """The ratings of a long CSV, ready for `ratings_from_rows`, and what was left out as missing.

    `order` lists the nominal categories (numbers by value, then text as typed); None at the other
    levels, whose values are numbers. `missing` counts each spelling of a missing rating, as typed.
    """

    rows: list[tuple[str, str, Label]]
    order: list[Label] | None
    missing: Counter[str]


def missing_parse(text: str) -> tuple[str, ...]:
    """The --missing list: comma-separated spellings, stripped; an empty item stands for an empty cell."""
    return tuple(dict.fromkeys(item.strip() for item in text.split(",")))


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _spelling(token: str) -> str:
    return repr(token) if token else "empty"


def _spellings(missing: tuple[str, ...]) -> str:
    return ", ".join(map(_spelling, missing))


def read_ratings_csv(path: Path, level: str, *, missing: tuple[str, ...] = MISSING) -> RatingsFile:
    """The ratings (unit, rater, value) of a long CSV; a value spelled as one of `missing` is not a rating.

    Numeric-looking values are numbers at every level, so "1" and "1.0" are one nominal category;
    other text is a category at the nominal level and an error at the others. Raises CommandError
    naming the line of the first problem; nothing is computed from a bad file.
    """
    numeric = level != "nominal"
    absent = {token.casefold() for token in missing}
    rows: list[tuple[str, str, Label]] = []
    seen: dict[tuple[str, str], int] = {}
    skipped: Counter[str] = Counter()
    lines = csv_rows(path)
    _, header = next(lines, (1, None))
    if header is None:
        raise CommandError(f"{path}: the file is empty; expected the header {','.join(HEADER)}")
    if [h.strip().lower() for h in header] != HEADER:
        raise CommandError(f"{path}, line 1: the header must be {','.join(HEADER)} (got {','.join(header)})")
    for line, row in lines:
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != 3:
            raise CommandError(f"{path}, line {line}: expected 3 columns (unit,rater,value), found {len(row)}")
        unit, rater, value = (cell.strip() for cell in row)
        for name, cell in (("unit", unit), ("rater", rater)):
            if not cell:
                raise CommandError(f"{path}, line {line}: the {name} is missing")
        # A missing rating still claims its (unit, rater) cell: a second row for it is a contradiction.
        if (unit, rater) in seen:
            raise CommandError(
                f"{path}, line {line}: rater {rater!r} already rated unit {unit!r} on line {seen[(unit, rater)]}"
            )
        seen[(unit, rater)] = line
        if value.casefold() in absent:
            skipped[value] += 1
            continue
        if not value:
            raise CommandError(
                f"{path}, line {line}: the value is missing, and --missing does not count empty cells as "
                "missing ratings (add an empty item to it, as in --missing 'NA,')"
            )
        number = _number(value)
        if number is not None:
            if level == "ratio" and number < 0:
                raise CommandError(f"{path}, line {line}: the ratio level needs non-negative values (got {value})")
            rows.append((unit, rater, number))
        elif numeric:
            raise CommandError(
                f"{path}, line {line}: the value {value!r} is not a number; the {level} level needs numbers "
                f"(a missing rating is written as one of: {_spellings(missing)}; see --missing)"
            )
        else:
            rows.append((unit, rater, value))
    if not rows:
        left_out = f" ({sum(skipped.values())} missing)" if skipped else ""
        raise CommandError(f"{path}: no ratings after the header{left_out}")
    order: list[Label] | None = None
    if not numeric:
        labels = {value for _, _, value in rows}
        numbers = sorted(v for v in labels if isinstance(v, float))
        texts = sorted(v for v in labels if isinstance(v, str))
        order = [*numbers, *texts]
    return RatingsFile(rows, order, skipped)


def _json_label(label: Label) -> Label | int:
    """A whole number prints as one (3, not 3.0), as the rater most likely typed it."""
    return int(label) if isinstance(label, float) and label.is_integer() else label


class Command(BaseCommand):
    help = "Print every agreement coefficient with its 95% bootstrap CI as JSON, for a ratings CSV or a project."

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--ratings", type=Path, help="A CSV with the columns unit,rater,value (one rating a row).")
        source.add_argument("--project", help="A project's slug: its current submitted reviews, field by field.")
        parser.add_argument("--level", choices=LEVELS, default="nominal", help="Measurement level of --ratings.")
        parser.add_argument(
            "--missing",
            type=missing_parse,
            default=MISSING,
            metavar="LIST",
            help=(
                "Comma-separated spellings of a missing rating in --ratings, matched case-insensitively "
                "at every level; such a rating is left out (not a category, not an error) and counted "
                'under "missing" in the output. The list replaces the default: empty cells, NA, N/A, '
                "'.', null and '-'. An empty item stands for empty cells, as in --missing 'NA,'."
            ),
        )
        parser.add_argument("--draws", type=int, default=DRAWS, help=f"Bootstrap draws (default {DRAWS}).")
        parser.add_argument("--seed", type=int, default=SEED, help="Bootstrap seed, for repeatable intervals.")

    def handle(
        self,
        *args,
        ratings: Path | None,
        project: str | None,
        level: str,
        missing: tuple[str, ...],
        draws: int,
        seed: int,
        **options,
    ):
        if draws < 0:
            raise CommandError("--draws must be zero or more")
        if ratings is not None:
            result = self._from_file(ratings, level, missing, draws, seed)
        else:
            found = Project.objects.filter(slug=project).first()
            if found is None:
                raise CommandError(f"no project with the slug {project!r}")
            result = project_agreement_compute(project=found, draws=draws, seed=seed)
        self.stdout.write(json.dumps(result, indent=2, allow_nan=False))

    def _from_file(self, path: Path, level: str, missing: tuple[str, ...], draws: int, seed: int) -> dict:
        ratings = read_ratings_csv(path, level, missing=missing)
        table = ratings_from_rows(ratings.rows, order=ratings.order)
        raters = [str(r) for r in table.raters]
        report = agreement_report(table.matrix, level, raters=raters, draws=draws, seed=seed)
        n_missing = sum(ratings.missing.values())
        if n_missing:
            seen = ", ".join(f"{_spelling(spelling)} x{n}" for spelling, n in ratings.missing.most_common())
            # A plain note, not an error: the JSON on stdout stays the result.
            self.stderr.write(
                f"{path}: {n_missing} missing rating{'s' * (n_missing != 1)} left out ({seen})", style_func=lambda s: s
            )
        if ratings.order is not None:
            numbers = sum(isinstance(label, float) for label in ratings.order)
            if 0 < numbers < len(ratings.order):
                texts = [repr(label) for label in ratings.order if isinstance(label, str)]
                shown = ", ".join(texts[:3]) + (", ..." if len(texts) > 3 else "")
                self.stderr.write(
                    f"{path}: the values mix numbers and text ({shown}); each is a "
                    "category of its own; if a text value means 'not rated', list it with --missing",
                    style_func=lambda s: s,
                )
        return {
            "file": str(path),
            **report,
            "missing": {
                "n_ratings": n_missing,
                "spellings": dict(ratings.missing.most_common()),
                "treated_as_missing": list(missing),
            },
            "categories": [_json_label(label) for label in ratings.order] if ratings.order is not None else None,
            "per_rater": rater_breakdown(table.matrix, level, raters=raters, draws=draws, seed=seed),
        }
