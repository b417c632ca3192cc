"""AlpacaEval-style outputs: `[{dataset, instruction, output, generator, response}]`.

`output` is a reference model's answer (that model named by `generator`), `response` the answer of
the model being evaluated (named by --model or the file's path). Both are kept: the reference under
its generator, the evaluated answer under its model; the prompt is matched by content or created.
"""

from collections.abc import Iterable, Iterator
from pathlib import Path

from curation.formats.base import PairRecord, Problem, RawRecord, get_text
from curation.formats.outputs_with_prompts import pair_rows
from curation.formats.streams import iter_json_records

NAME = "alpaca_eval"
FIELDS = frozenset({"id", "instruction", "input", "output", "generator", "response", "dataset", "raw_output"})
# What the reference answer is stored under when the file does not name its generator.
UNNAMED_REFERENCE = "reference"


def detect(keys: set[str]) -> bool:
    return {"instruction", "output", "response"} <= keys


def _reference(raw: RawRecord, record: PairRecord, problems: list[Problem]) -> None:
    record.reference = get_text(raw, "output", required=False, problems=problems)
    generator = get_text(raw, "generator", required=False, problems=problems, max_length=200).strip()
    record.reference_model = generator or UNNAMED_REFERENCE


def parse_records(raws: Iterable[RawRecord | Problem]) -> Iterator[PairRecord | Problem]:
    return pair_rows(raws, _reference)


def parse(path: Path) -> Iterator[PairRecord | Problem]:
    return parse_records(iter_json_records(path))
