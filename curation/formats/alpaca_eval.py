"""AlpacaEval-style outputs: `[{dataset, instruction, output, generator, response}]`.

`output` is a reference model's answer (that model named by `generator`), `response` the answer of
the model being evaluated (named by --model or the file's path). Both are kept: the reference under
its generator, the evaluated answer under its model; the prompt is matched by content or created.
"""

from collections.abc import Iterable, Iterator
from pathlib import Path

from curation.formats.base import PairRecord, Problem, RawRecord, get_text
from curation.formats.outputs_with_prompts import pair_record, question_in_input
from curation.formats.streams import iter_json_records

NAME = "alpaca_eval"
FIELDS = frozenset({"id", "instruction", "input", "output", "generator", "response", "dataset", "raw_output"})
# What the reference answer is stored under when the file does not name its generator.
UNNAMED_REFERENCE = "reference"


def detect(keys: set[str]) -> bool:
    return {"instruction", "output", "response"} <= keys


def parse_records(raws: Iterable[RawRecord | Problem]) -> Iterator[PairRecord | Problem]:
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
        record.reference = get_text(raw, "output", required=False, problems=problems)
        generator = get_text(raw, "generator", required=False, problems=problems, max_length=200).strip()
        record.reference_model = generator or UNNAMED_REFERENCE
        yield from problems or [record]


def parse(path: Path) -> Iterator[PairRecord | Problem]:
    return parse_records(iter_json_records(path))
