"""Alpaca instruction data, a JSON array or JSONL: `{instruction, input, output}` plus optional metadata
(`id`, `topic`, `view`, `type`, `difficulty`)."""

from collections.abc import Iterable, Iterator
from pathlib import Path

from curation.formats.alpacare_seed import seed_task
from curation.formats.base import Problem, RawRecord, SeedTaskRecord, get_id
from curation.formats.outputs_with_prompts import question_in_input
from curation.formats.streams import iter_json_records

NAME = "alpaca"
FIELDS = frozenset({"instruction", "input", "output", "id", "topic", "view", "type", "difficulty"})


def detect(keys: set[str]) -> bool:
    return {"instruction", "output"} <= keys


def parse_rows(raws: Iterable[RawRecord | Problem], *, require_output: bool) -> Iterator[SeedTaskRecord | Problem]:
    seen: dict[str, int] = {}
    for raw in raws:
        if isinstance(raw, Problem):
            yield raw
            continue
        raw = question_in_input(raw)
        problems: list[Problem] = []
        record = seed_task(raw, problems, required_metadata=False)
        if require_output and "output" not in raw.data:
            problems.append(raw.problem("output", "required field is missing"))
        record.external_id = get_id(raw, "id", required=False, problems=problems)
        if record.external_id in seen:
            first = seen[record.external_id]
            problems.append(raw.problem("id", f"duplicate id {record.external_id!r} (first at {raw.unit} {first})"))
        elif record.external_id:
            seen[record.external_id] = raw.line
        yield from problems or [record]


def parse(path: Path) -> Iterator[SeedTaskRecord | Problem]:
    return parse_rows(iter_json_records(path), require_output=True)


def parse_records(raws: Iterable[RawRecord | Problem]) -> Iterator[SeedTaskRecord | Problem]:
    return parse_rows(raws, require_output=True)
