"""HealthBench JSONL files: rubric rows (`rubrics`) and physician-labelled meta-eval rows (`binary_labels`).

Reading gives the raw objects, numbered by line, after the checks of curation.stats.rubrics; writing
gives one JSON object per line. Export followed by import gives the same objects back.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from curation.stats.rubrics import (
    HealthBenchRow,
    MetaEvalRow,
    RubricFormatError,
    parse_healthbench_row,
    parse_meta_eval_row,
)

RUBRIC_KEYS = ("prompt", "prompt_id", "example_tags", "rubrics")


@dataclass(frozen=True)
class RubricLine:
    line: int
    raw: dict[str, Any]
    row: HealthBenchRow


@dataclass(frozen=True)
class MetaEvalLine:
    line: int
    raw: dict[str, Any]
    row: MetaEvalRow


def _objects(text: str) -> Iterable[tuple[int, Any]]:
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield n, json.loads(line)
        except json.JSONDecodeError as exc:
            raise RubricFormatError(f"line {n}", "row", f"is not JSON ({exc.msg} at column {exc.colno})") from None


def _whole_points(raw: dict, line: int) -> None:
    for i, criterion in enumerate(raw["rubrics"]):
        if isinstance(criterion["points"], float) and not criterion["points"].is_integer():
            where = f"line {line} (prompt_id {raw['prompt_id']!r})"
            raise RubricFormatError(where, f"rubrics[{i}].points", f"{criterion['points']} is not a whole number")


def healthbench_read(text: str) -> tuple[list[RubricLine], list[MetaEvalLine]]:
    """Rubric rows and meta-eval rows of one file (either kind, or both). Raises RubricFormatError naming
    the line and field of the first problem; a prompt_id given rubrics twice names both lines."""
    rubrics: list[RubricLine] = []
    meta: list[MetaEvalLine] = []
    seen: dict[str, int] = {}
    for n, data in _objects(text):
        try:
            _read_one(n, data, rubrics, meta, seen)
        except RubricFormatError as exc:
            # The row parsers count rows; in a file the line is what a person looks for.
            raise RubricFormatError(exc.where.replace(f"row {n}", f"line {n}", 1), exc.field, exc.problem) from None
    return rubrics, meta


def _read_one(n: int, data: Any, rubrics: list, meta: list, seen: dict[str, int]) -> None:
    if isinstance(data, dict) and "binary_labels" in data:
        meta.append(MetaEvalLine(n, data, parse_meta_eval_row(data, row=n)))
        return
    row = parse_healthbench_row(data, row=n)
    _whole_points(data, n)
    if row.prompt_id in seen:
        raise RubricFormatError(
            f"line {n}", "prompt_id", f"{row.prompt_id!r} already has rubrics on line {seen[row.prompt_id]}"
        )
    seen[row.prompt_id] = n
    rubrics.append(RubricLine(n, data, row))


def healthbench_write(rows: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
