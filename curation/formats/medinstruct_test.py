"""The MedInstruct test set: one JSON object per line, `{id, instruction, difficulty, <answer columns>}`.

Every other text column is a reference answer, its model named from the column: "gpt-4-answer" is
gpt-4, "claude-2" is claude-2.
"""

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from curation.formats.base import Problem, PromptRecord, RawRecord, get_difficulty, get_id, get_text, text_problem
from curation.formats.streams import iter_json_records

NAME = "medinstruct_test"
PROMPT_FIELDS = {"id", "instruction", "input", "difficulty"}
_ANSWER_SUFFIX = re.compile(r"[-_ ]answer$", re.IGNORECASE)


def model_from_column(column: str) -> str:
    return _ANSWER_SUFFIX.sub("", column.strip())


# Columns that hold something other than a reference answer: a file with them is model outputs, not a test set.
NOT_ANSWERS = frozenset({"response", "raw_output", "output", "generator", "dataset", "model"})
FIELDS = None  # every other column is an answer column


def detect(keys: set[str]) -> bool:
    return {"id", "instruction"} <= keys and any(_ANSWER_SUFFIX.search(k) for k in keys) and not keys & NOT_ANSWERS


def parse(path: Path) -> Iterator[PromptRecord | Problem]:
    return parse_records(iter_json_records(path))


def parse_records(raws: Iterable[RawRecord | Problem]) -> Iterator[PromptRecord | Problem]:
    seen: dict[str, int] = {}
    for raw in raws:
        if isinstance(raw, Problem):
            yield raw
            continue
        problems: list[Problem] = []
        record = PromptRecord(
            line=raw.line,
            external_id=get_id(raw, "id", required=True, problems=problems),
            instruction=get_text(raw, "instruction", required=True, problems=problems),
            input=get_text(raw, "input", required=False, problems=problems),
            difficulty=get_difficulty(raw, "difficulty", required=False, problems=problems),
        )
        if record.external_id in seen:
            problems.append(
                raw.problem(
                    "id", f"duplicate id {record.external_id!r} (first at {raw.unit} {seen[record.external_id]})"
                )
            )
        elif record.external_id:
            seen[record.external_id] = raw.line
        for column, value in raw.data.items():
            if column in PROMPT_FIELDS or value is None:
                continue
            if not isinstance(value, str):
                problems.append(raw.problem(column, "an answer column must hold text"))
            elif bad := text_problem(value):
                problems.append(raw.problem(column, bad))
            elif not model_from_column(column):
                problems.append(raw.problem(column, "cannot name a model from this column"))
            else:
                record.references.append((model_from_column(column), value))
        yield from problems or [record]
