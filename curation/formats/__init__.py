"""Import formats: one module per format, each streaming typed records or problems from a file.

`detect_format` names the format when the file's first record leaves no doubt; otherwise the
caller must say which (the CLI's --format, the upload form's format field).
"""

from pathlib import Path
from types import ModuleType

from curation.formats import alpaca, alpacare_seed, chat, medinstruct_test, model_outputs
from curation.formats import csv as csv_format
from curation.formats.base import Problem, PromptRecord, Record, ResponseRecord, SeedTaskRecord, head_problem
from curation.formats.streams import iter_json_records

FORMATS: dict[str, ModuleType] = {
    module.NAME: module for module in (alpacare_seed, medinstruct_test, model_outputs, alpaca, chat, csv_format)
}
# Most specific first: a MedInstruct line also has an instruction, an AlpaCare seed may carry an output.
_DETECTION_ORDER = (medinstruct_test, model_outputs, alpacare_seed, chat, alpaca)

__all__ = [
    "FORMATS",
    "FormatUnknown",
    "Problem",
    "PromptRecord",
    "Record",
    "ResponseRecord",
    "SeedTaskRecord",
    "detect_format",
    "head_problem",
]


class FormatUnknown(Exception):
    """The format cannot be told from the file; the message says what to pass instead.

    `problem` is set when the first record could not be read at all (too deep, malformed, ...):
    that defect, with its line, is what to report, not the format.
    """

    def __init__(self, message: str, problem: Problem | None = None):
        super().__init__(message)
        self.problem = problem


def detect_format(path: Path, file_name: str) -> str:
    if file_name.lower().endswith(".csv"):
        return csv_format.NAME
    sample = None
    for item in iter_json_records(path):
        sample = item
        break
    if isinstance(sample, Problem):
        raise FormatUnknown(_ask_for_format(f"its first record cannot be read: {sample}"), problem=sample)
    if sample is None or not isinstance(sample.data, dict):
        raise FormatUnknown(_ask_for_format("its first record is not a JSON object"))
    matches = [module.NAME for module in _DETECTION_ORDER if module.detect(sample.data)]
    if not matches:
        raise FormatUnknown(_ask_for_format(f"its first record has the fields {', '.join(sorted(sample.data))}"))
    if {medinstruct_test.NAME, model_outputs.NAME} <= set(matches):
        raise FormatUnknown(_ask_for_format("its first record could be a test prompt or a model output"))
    return matches[0]


def _ask_for_format(why: str) -> str:
    return f"Cannot tell this file's format ({why}); choose the format (--format {{{','.join(FORMATS)}}})."


def parse(path: Path, format_name: str):
    return FORMATS[format_name].parse(path)
