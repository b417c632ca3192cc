"""AlpaCare seed tasks: `[{topic, view, type, instruction, input, difficulty}]`; "<noinput>" means no input."""

from collections.abc import Iterable, Iterator
from pathlib import Path

from curation.formats.base import Problem, RawRecord, SeedTaskRecord, get_difficulty, get_text
from curation.formats.streams import iter_json_records

NAME = "alpacare_seed"
NO_INPUT = "<noinput>"
REQUIRED = ("topic", "view", "type", "instruction", "input", "difficulty")
FIELDS = frozenset({*REQUIRED, "output"})


def detect(keys: set[str]) -> bool:
    return {"topic", "view", "type", "instruction"} <= keys


def seed_task(raw: RawRecord, problems: list[Problem], *, required_metadata: bool) -> SeedTaskRecord:
    task_input = get_text(raw, "input", required=False, problems=problems)
    if required_metadata and "input" not in raw.data:
        problems.append(raw.problem("input", 'required field is missing (use "<noinput>" for none)'))
    return SeedTaskRecord(
        line=raw.line,
        instruction=get_text(raw, "instruction", required=True, problems=problems),
        input="" if task_input.strip() == NO_INPUT else task_input,
        reference_output=get_text(raw, "output", required=False, problems=problems),
        topic=get_text(raw, "topic", required=required_metadata, problems=problems, max_length=200).strip(),
        view=get_text(raw, "view", required=required_metadata, problems=problems, max_length=200).strip(),
        task_type=get_text(raw, "type", required=required_metadata, problems=problems, max_length=200).strip(),
        difficulty=get_difficulty(raw, "difficulty", required=required_metadata, problems=problems),
    )


def parse(path: Path) -> Iterator[SeedTaskRecord | Problem]:
    return parse_records(iter_json_records(path))


def parse_records(raws: Iterable[RawRecord | Problem]) -> Iterator[SeedTaskRecord | Problem]:
    for raw in raws:
        if isinstance(raw, Problem):
            yield raw
            continue
        problems: list[Problem] = []
        record = seed_task(raw, problems, required_metadata=True)
        yield from problems or [record]
