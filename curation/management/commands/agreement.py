"""Inter-annotator agreement as JSON, for a CSV of ratings or for a project's current reviews.

python manage.py agreement --ratings ratings.csv --level ordinal
python manage.py agreement --project cardio
"""

import csv
import json
import math
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from curation.models import Project
from curation.services.agreement import project_agreement_compute
from curation.stats.agreement import DRAWS, LEVELS, SEED, agreement_report, rater_breakdown, ratings_from_rows

HEADER = ["unit", "rater", "value"]


def read_ratings_csv(path: Path, level: str) -> tuple[list[tuple[str, str, object]], list | None]:
    """Rows (unit, rater, value) of a long CSV, and the category order for text values (nominal only).

    Raises CommandError naming the line of the first problem; nothing is computed from a bad file.
    """
    numeric = level != "nominal"
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise CommandError(f"{path}: cannot open ({exc.strerror})") from exc
    rows: list[tuple[str, str, object]] = []
    seen: dict[tuple[str, str], int] = {}
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise CommandError(f"{path}: the file is empty; expected the header {','.join(HEADER)}")
        if [h.strip().lower() for h in header] != HEADER:
            raise CommandError(f"{path}, line 1: the header must be {','.join(HEADER)} (got {','.join(header)})")
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != 3:
                raise CommandError(f"{path}, line {line}: expected 3 columns (unit,rater,value), found {len(row)}")
            unit, rater, value = (cell.strip() for cell in row)
            for name, cell in (("unit", unit), ("rater", rater), ("value", value)):
                if not cell:
                    raise CommandError(f"{path}, line {line}: the {name} is missing")
            if (unit, rater) in seen:
                raise CommandError(
                    f"{path}, line {line}: rater {rater!r} already rated unit {unit!r} on line {seen[(unit, rater)]}"
                )
            seen[(unit, rater)] = line
            if numeric:
                try:
                    number = float(value)
                except ValueError:
                    number = math.nan
                if not math.isfinite(number):
                    raise CommandError(
                        f"{path}, line {line}: the value {value!r} is not a number; the {level} level needs numbers"
                    )
                if level == "ratio" and number < 0:
                    raise CommandError(f"{path}, line {line}: the ratio level needs non-negative values (got {value})")
                rows.append((unit, rater, number))
            else:
                rows.append((unit, rater, value))
    if not rows:
        raise CommandError(f"{path}: no ratings after the header")
    order = sorted({value for _, _, value in rows}) if not numeric else None
    return rows, order


class Command(BaseCommand):
    help = "Print every agreement coefficient with its 95% bootstrap CI as JSON, for a ratings CSV or a project."

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--ratings", type=Path, help="A CSV with the columns unit,rater,value (one rating a row).")
        source.add_argument("--project", help="A project's slug: its current submitted reviews, field by field.")
        parser.add_argument("--level", choices=LEVELS, default="nominal", help="Measurement level of --ratings.")
        parser.add_argument("--draws", type=int, default=DRAWS, help=f"Bootstrap draws (default {DRAWS}).")
        parser.add_argument("--seed", type=int, default=SEED, help="Bootstrap seed, for repeatable intervals.")

    def handle(self, *args, ratings: Path | None, project: str | None, level: str, draws: int, seed: int, **options):
        if draws < 0:
            raise CommandError("--draws must be zero or more")
        if ratings is not None:
            result = self._from_file(ratings, level, draws, seed)
        else:
            found = Project.objects.filter(slug=project).first()
            if found is None:
                raise CommandError(f"no project with the slug {project!r}")
            result = project_agreement_compute(project=found, draws=draws, seed=seed)
        self.stdout.write(json.dumps(result, indent=2, allow_nan=False))

    def _from_file(self, path: Path, level: str, draws: int, seed: int) -> dict:
        rows, order = read_ratings_csv(path, level)
        table = ratings_from_rows(rows, order=order)
        raters = [str(r) for r in table.raters]
        report = agreement_report(table.matrix, level, raters=raters, draws=draws, seed=seed)
        return {
            "file": str(path),
            **report,
            "categories": order,
            "per_rater": rater_breakdown(table.matrix, level, raters=raters, draws=draws, seed=seed),
        }
