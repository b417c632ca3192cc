"""Model outputs that carry their own prompts: `[{id, instruction, input?, response, raw_output?, generator?}]`.

Unlike `model_outputs`, no prompt need be in the project first: each record's prompt is matched to
an existing one by content (instruction and input) or created, and the answer hangs on it. The
model is `--model`, else the record's `generator` (or `model`) field, else the file's path.
"""

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from curation.formats.base import PairRecord, Problem, RawRecord, get_id, get_text
from curation.formats.streams import iter_json_records

NAME = "outputs_with_prompts"
FIELDS = frozenset({"id", "instruction", "input", "response", "raw_output", "generator", "model", "dataset"})


def detect(keys: set[str]) -> bool:
    return {"instruction", "response"} <= keys and "output" not in keys


def question_in_input(raw: RawRecord) -> RawRecord:
    """An empty instruction with the question in `input` (a common Alpaca export): the input is the prompt."""
    instruction, task_input = raw.data.get("instruction"), raw.data.get("input")
    empty = isinstance(instruction, str) and not instruction.strip()
    if empty and isinstance(task_input, str) and task_input.strip():
        return RawRecord(raw.line, {**raw.data, "instruction": task_input, "input": ""}, raw.unit, raw.file_line)
    return raw


def pair_record(raw: RawRecord, problems: list[Problem], *, instruction: str, task_input: str) -> PairRecord:
    """The fields every pair reading shares: id, answer, model, raw output and dataset."""
    if "response" not in raw.data:
        problems.append(raw.problem("response", "required field is missing"))
    model_field = "generator" if "generator" in raw.data and "output" not in raw.data else "model"
    return PairRecord(
        line=raw.line,
        prompt_id=get_id(raw, "id", required=False, problems=problems),
        instruction=instruction,
        input=task_input,
        # A model may answer with nothing at all; that is data for the reviewers, not a defect.
        response=get_text(raw, "response", required=False, problems=problems),
        model=get_text(raw, model_field, required=False, problems=problems, max_length=200).strip(),
        raw_output=get_text(raw, "raw_output", required=False, problems=problems),
        dataset=get_text(raw, "dataset", required=False, problems=problems, max_length=200).strip(),
    )


def pair_rows(
    raws: Iterable[RawRecord | Problem], finish: Callable[[RawRecord, PairRecord, list[Problem]], None] | None = None
) -> Iterator[PairRecord | Problem]:
    """Records with an instruction, optional input and an answer; `finish` reads a reading's own fields."""
    for raw in raws:
        if isinstance(raw, Problem):
            yield raw
            continue
        raw = question_in_input(raw)
        problems: list[Problem] = []
        record = pair_record(
            raw,
            problems,
            instruction=get_text(raw, "instruction", required=True, problems=problems),
            task_input=get_text(raw, "input", required=False, problems=problems),
        )
        if finish is not None:
            finish(raw, record, problems)
        yield from problems or [record]


def parse_records(raws: Iterable[RawRecord | Problem]) -> Iterator[PairRecord | Problem]:
    return pair_rows(raws)


def parse(path: Path) -> Iterator[PairRecord | Problem]:
    return parse_records(iter_json_records(path))
