"""One model's outputs for test prompts: `[{id, instruction, raw_output, response}]`.

`id` names a prompt already in the project; the service checks the instruction text against it.
"""

from collections.abc import Iterable, Iterator
from pathlib import Path

from curation.formats.base import Problem, RawRecord, ResponseRecord, get_id, get_text
from curation.formats.streams import iter_json_records

NAME = "model_outputs"
FIELDS = frozenset({"id", "instruction", "response", "raw_output"})


def detect(keys: set[str]) -> bool:
    return {"id", "instruction", "response"} <= keys and keys <= FIELDS


def parse(path: Path) -> Iterator[ResponseRecord | Problem]:
    return parse_records(iter_json_records(path))


def parse_records(raws: Iterable[RawRecord | Problem]) -> Iterator[ResponseRecord | Problem]:
    seen: dict[str, int] = {}
    for raw in raws:
        if isinstance(raw, Problem):
            yield raw
            continue
        problems: list[Problem] = []
        record = ResponseRecord(
            line=raw.line,
            prompt_id=get_id(raw, "id", required=True, problems=problems),
            instruction=get_text(raw, "instruction", required=True, problems=problems),
            # A model may answer with nothing at all; that is data for the reviewers, not a defect.
            text=get_text(raw, "response", required=False, problems=problems),
            raw_output=get_text(raw, "raw_output", required=False, problems=problems),
        )
        if "response" not in raw.data:
            problems.append(raw.problem("response", "required field is missing"))
        if record.prompt_id in seen:
            problems.append(
                raw.problem("id", f"duplicate id {record.prompt_id!r} (first at {raw.unit} {seen[record.prompt_id]})")
            )
        elif record.prompt_id:
            seen[record.prompt_id] = raw.line
        yield from problems or [record]
