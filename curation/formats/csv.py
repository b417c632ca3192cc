"""CSV with a header row. Columns: instruction (required), input, output, topic, view, type,
difficulty, id. Any other column is refused, so a misspelt header cannot silently drop data."""

import csv as csvlib
from collections.abc import Iterator
from pathlib import Path

from curation.formats.alpaca import parse_rows
from curation.formats.base import Problem, RawRecord, SeedTaskRecord
from curation.formats.streams import iter_lines

NAME = "csv"
COLUMNS = ("instruction", "input", "output", "topic", "view", "type", "difficulty", "id")
ALIASES = {"reference_output": "output", "task_type": "type"}


def parse(path: Path) -> Iterator[SeedTaskRecord | Problem]:
    byte_problems: list[Problem] = []

    def clean_lines():
        for item in iter_lines(path):
            if isinstance(item, Problem):
                byte_problems.append(item)
            else:
                yield item[1]

    lines = clean_lines()
    reader = csvlib.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        yield from byte_problems or [Problem(1, "", "the file is empty")]
        return
    columns = [ALIASES.get(name.strip().lower(), name.strip().lower()) for name in header]
    header_problems = [
        Problem(1, name or f"column {i + 1}", f"unknown column; expected some of {', '.join(COLUMNS)}")
        for i, name in enumerate(columns)
        if name not in COLUMNS
    ]
    header_problems += [
        Problem(1, name, "column appears twice") for i, name in enumerate(columns) if name in columns[:i]
    ]
    if "instruction" not in columns:
        header_problems.append(Problem(1, "instruction", "required column is missing"))
    yield from byte_problems
    byte_problems.clear()
    if header_problems:
        yield from header_problems
        return

    def rows():
        end = reader.line_num
        for row in reader:
            start, end = end + 1, reader.line_num
            yield from byte_problems
            byte_problems.clear()
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                yield Problem(start, "", f"has {len(row)} fields; the header has {len(columns)}")
                continue
            # An empty cell is an absent value, as in a JSON record without that field.
            yield RawRecord(start, {name: value for name, value in zip(columns, row, strict=True) if value != ""})
        yield from byte_problems

    try:
        yield from parse_rows(rows(), require_output=False)
    except csvlib.Error as exc:
        yield Problem(reader.line_num, "", f"malformed CSV: {exc}")
