"""Import formats: one module per reading of a file, each turning raw records into typed records or problems.

A file is read by its shape, not its name: `detect_format` looks at the fields of the first records
and picks the reading that uses every one of them (the one that loses nothing). A person can always
override it with a format and a column mapping (`instruction=question,response=answer`), which
renames the file's columns to the fields the reading expects before it reads them.
"""

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import ModuleType

from curation.formats import (
    alpaca,
    alpaca_eval,
    alpacare_seed,
    chat,
    medinstruct_test,
    model_outputs,
    outputs_with_prompts,
    prompt_response,
)
from curation.formats import csv as csv_format
from curation.formats.base import (
    PairRecord,
    Problem,
    PromptRecord,
    RawRecord,
    Record,
    ResponseRecord,
    SeedTaskRecord,
    head_problem,
)
from curation.formats.streams import iter_json_records, iter_jsonl

FORMATS: dict[str, ModuleType] = {
    module.NAME: module
    for module in (
        alpacare_seed,
        medinstruct_test,
        model_outputs,
        alpaca,
        chat,
        csv_format,
        outputs_with_prompts,
        alpaca_eval,
        prompt_response,
    )
}
# Most specific first, for readings that use the same fields: a MedInstruct line also has an
# instruction, an AlpaCare seed may carry an output, AlpacaEval's records are also outputs with prompts.
_DETECTION_ORDER = (
    medinstruct_test,
    alpaca_eval,
    model_outputs,
    outputs_with_prompts,
    prompt_response,
    alpacare_seed,
    chat,
    alpaca,
)
SAMPLE_RECORDS = 5
# Column names of common exports (Hugging Face datasets among them) and the field each most likely is.
# Only ever suggested: the person confirms a mapping before it is used.
_LIKELY_FIELDS = {
    "question": "instruction",
    "query": "instruction",
    "problem": "instruction",
    "context": "input",
    "answer": "output",
    "target": "output",
    "solution": "output",
    "reference": "output",
    "completion": "response",
    "model_output": "response",
    "model_name": "model",
}
# A mapped column missing from a file is reported with the file's columns: at most this many named.
_COLUMNS_SHOWN = 30
_MAX_COLUMNS_KEPT = 10_000
MAPPABLE = ("id", "instruction", "input", "output", "response", "raw_output", "generator", "model", "prompt")

__all__ = [
    "FORMATS",
    "FormatUnknown",
    "PairRecord",
    "Problem",
    "PromptRecord",
    "Record",
    "ResponseRecord",
    "SeedTaskRecord",
    "detect_format",
    "head_problem",
    "mapping_parse",
    "mapping_problem",
]


class FormatUnknown(Exception):
    """The format cannot be told from the file; the message says what to pass instead.

    `problem` is set when the first record could not be read at all (too deep, malformed, ...):
    that defect, with its line, is what to report, not the format. `suggested_mapping` is a column
    mapping under which a reading fits, for the person to confirm.
    """

    def __init__(self, message: str, problem: Problem | None = None, suggested_mapping: dict | None = None):
        super().__init__(message)
        self.problem = problem
        self.suggested_mapping = suggested_mapping or {}


def mapping_parse(text: str) -> dict[str, str]:
    """`instruction=question,response=answer` as {field: column}; ValueError naming the bad part."""
    mapping: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        field, sep, column = (s.strip() for s in part.partition("="))
        if not sep or not field or not column:
            raise ValueError(f"{part!r} is not field=column (for example instruction=question)")
        if field not in MAPPABLE:
            raise ValueError(f"unknown field {field!r}; map one of {', '.join(MAPPABLE)}")
        if field in mapping:
            raise ValueError(f"the field {field!r} is mapped twice")
        mapping[field] = column
    return mapping


def mapped(raws: Iterable[RawRecord | Problem], mapping: dict[str, str]) -> Iterator[RawRecord | Problem]:
    """Records with the file's columns renamed to the fields a reading expects."""
    if not mapping:
        yield from raws
        return
    renames = {column: field for field, column in mapping.items()}
    for raw in raws:
        if isinstance(raw, Problem):
            yield raw
            continue
        data = {renames.get(key, key): value for key, value in raw.data.items() if key not in mapping}
        data.update({renames[key]: value for key, value in raw.data.items() if key in renames})
        yield RawRecord(raw.line, data, raw.unit, raw.file_line)


def mapping_problem(
    path: Path, mapping: dict[str, str], format_name: str = "", *, batch: bool = False
) -> Problem | None:
    """A mapped column that no record of the file has, naming the columns it does have; else None.

    The file is read only until every mapped column has been seen, usually in its first record.
    One mapping serves every file of a batch, and a file of it may well lack an optional column: there
    it counts only where the file has the field under its own name, which the mapping would drop.
    """
    if not mapping:
        return None
    missing = dict(mapping)
    columns: set[str] = set()
    for raw in records_of(path, format_name):
        if isinstance(raw, Problem):
            continue  # reported when the file is read
        if len(columns) < _MAX_COLUMNS_KEPT:
            columns.update(raw.data.keys())
        missing = {field: column for field, column in missing.items() if column not in raw.data}
        if not missing:
            return None
    if batch:
        missing = {field: column for field, column in missing.items() if field in columns}
    if not missing or not columns:
        return None  # no record could be read: the reading says why
    named = [f"{column!r} (for {field})" for field, column in missing.items()]
    shown = sorted(columns)
    more = f" and {len(shown) - _COLUMNS_SHOWN:,} more" if len(shown) > _COLUMNS_SHOWN else ""
    have = f"its columns are {', '.join(shown[:_COLUMNS_SHOWN])}{more}"
    if len(named) == 1:
        return Problem(None, next(iter(missing)), f"the mapped column {named[0]} is not in the file; {have}")
    fields = ", ".join(missing)
    listed = f"{', '.join(named[:-1])} and {named[-1]}"
    return Problem(None, fields, f"the mapped columns {listed} are not in the file; {have}")


def records_of(path: Path, format_name: str) -> Iterator[RawRecord | Problem]:
    return iter_jsonl(path) if format_name == chat.NAME else iter_json_records(path)


def sample_of(path: Path, mapping: dict[str, str]) -> tuple[list[RawRecord], Problem | None]:
    """The first records (at most SAMPLE_RECORDS), or the problem that stops the first from being read."""
    sample: list[RawRecord] = []
    for item in mapped(iter_json_records(path), mapping):
        if isinstance(item, Problem):
            return sample, (item if not sample else None)
        sample.append(item)
        if len(sample) >= SAMPLE_RECORDS:
            break
    return sample, None


def unknown_fields(format_name: str, keys: Iterable[str]) -> list[str]:
    """Fields of the records that the reading does not use: they would not be stored."""
    known = getattr(FORMATS[format_name], "FIELDS", None)
    return [] if known is None or format_name == csv_format.NAME else sorted(set(keys) - known)


def detect_format(
    path: Path,
    file_name: str,
    mapping: dict[str, str] | None = None,
    *,
    names_known_prompts: Callable[[dict], bool] = lambda record: False,
) -> str:
    """The reading of the file that uses every field of its first records; FormatUnknown if none fits.

    Model outputs whose prompts the project already has (`names_known_prompts` of the first record)
    are read as `model_outputs`, which refuses a record naming no prompt; otherwise the records'
    own prompts are matched by content or created.
    """
    if file_name.lower().endswith(".csv"):
        return csv_format.NAME
    sample, problem = sample_of(path, mapping or {})
    if problem is not None:
        raise FormatUnknown(_ask_for_format(f"its first record cannot be read: {problem}"), problem=problem)
    if not sample:
        raise FormatUnknown(_ask_for_format("it holds no JSON object"))
    keys = set().union(*(record.data.keys() for record in sample))
    candidates = [module for module in _DETECTION_ORDER if module.detect(keys)]
    if model_outputs in candidates and not names_known_prompts(sample[0].data):
        candidates.remove(model_outputs)
    if not candidates:
        suggestion = _suggest_mapping(keys)
        hint = f"; map its columns, for example --map {_map_text(suggestion)}" if suggestion else ""
        why = f"its records have the fields {', '.join(sorted(keys))}{hint}"
        raise FormatUnknown(_ask_for_format(why), suggested_mapping=suggestion)
    return min(candidates, key=lambda module: len(unknown_fields(module.NAME, keys))).NAME


def _suggest_mapping(keys: set[str]) -> dict[str, str]:
    suggestion = {}
    for column in sorted(keys):
        field = _LIKELY_FIELDS.get(column.lower())
        if field and field not in keys and field not in suggestion:
            suggestion[field] = column
    suggestion = {field: suggestion[field] for field in MAPPABLE if field in suggestion}
    renamed = (keys - set(suggestion.values())) | set(suggestion)
    return suggestion if any(module.detect(renamed) for module in _DETECTION_ORDER) else {}


def _map_text(mapping: dict[str, str]) -> str:
    return ",".join(f"{field}={column}" for field, column in mapping.items())


def _ask_for_format(why: str) -> str:
    return f"Cannot tell this file's format ({why}); choose the format (--format {{{','.join(FORMATS)}}})."


def parse(
    path: Path,
    format_name: str,
    mapping: dict[str, str] | None = None,
    on_raw: Callable[[RawRecord], None] | None = None,
) -> Iterator[Record | Problem]:
    """Typed records and problems; `on_raw` sees each raw record first (to list the fields no reading uses)."""
    module = FORMATS[format_name]
    if format_name == csv_format.NAME:
        return module.parse(path)
    raws = mapped(records_of(path, format_name), mapping or {})
    return module.parse_records(_tapped(raws, on_raw) if on_raw else raws)


def _tapped(raws: Iterable[RawRecord | Problem], on_raw: Callable[[RawRecord], None]):
    for raw in raws:
        if not isinstance(raw, Problem):
            on_raw(raw)
        yield raw
