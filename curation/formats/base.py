"""Reading import files record by record, never whole, turning every defect into a `Problem`.

Each format module turns raw records (a JSON object or a CSV row, with where it came from) into
typed records or problems. The byte-level checks live here so every format reports a NUL byte,
invalid UTF-8, a UTF-16 file, a byte-order mark, NaN or an oversized line the same way: with the
line (or, inside a JSON array, the record number), the field and the reason.

Nesting depth and record size are bounded while reading, before a record is built: a JSON array
is read as parser events and each record assembled here, refused as soon as it passes a limit;
a JSON line's depth is measured by a bracket scan before `json.loads` builds anything. Neither a
deeply nested file nor a huge record can make the import hold more than about one record.
"""

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

CHUNK = 1 << 16
NUL = b"\x00"


@dataclass(frozen=True)
class Problem:
    """One defect: `line` is a file line, or for a JSON array the record number (`unit` says which).

    In a JSON array `file_line` is the line of the file the record starts on, so a person can go there.
    """

    line: int | None
    field: str
    reason: str
    unit: str = "line"
    file_line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        found = {"line": self.line, "unit": self.unit, "field": self.field, "reason": self.reason}
        if self.file_line is not None:
            found["file_line"] = self.file_line
        return found

    def __str__(self) -> str:
        where = f"{self.unit} {self.line}" if self.line is not None else "file"
        if self.file_line is not None and self.unit != "line":
            where += f" (line {self.file_line})"
        return f"{where}: {self.field + ': ' if self.field else ''}{self.reason}"


@dataclass(frozen=True)
class RawRecord:
    line: int
    data: dict[str, Any]
    unit: str = "line"
    file_line: int | None = None

    def problem(self, field_name: str, reason: str) -> Problem:
        return Problem(self.line, field_name, reason, self.unit, self.file_line)


@dataclass
class SeedTaskRecord:
    line: int
    instruction: str
    input: str = ""
    reference_output: str = ""
    topic: str = ""
    view: str = ""
    task_type: str = ""
    difficulty: int | None = None
    external_id: str = ""


@dataclass
class PromptRecord:
    line: int
    external_id: str
    instruction: str
    input: str = ""
    difficulty: int | None = None
    references: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ResponseRecord:
    line: int
    prompt_id: str
    instruction: str
    text: str
    raw_output: str = ""


@dataclass
class PairRecord:
    """A prompt with a model's answer to it, and perhaps a reference answer: the prompt is matched to
    the project's by content, or created."""

    line: int
    prompt_id: str
    instruction: str
    input: str
    response: str
    model: str = ""  # the record's own generator or model field
    raw_output: str = ""
    reference: str = ""
    reference_model: str = ""
    dataset: str = ""


Record = SeedTaskRecord | PromptRecord | ResponseRecord | PairRecord


def max_record_bytes() -> int:
    return int(getattr(settings, "CONCORD_IMPORT_MAX_RECORD_BYTES", 1_048_576))


def max_depth() -> int:
    """How many levels of objects and arrays a record may nest, the record itself being level 1."""
    return int(getattr(settings, "CONCORD_IMPORT_MAX_DEPTH", 64))


def _too_deep(limit: int, where: str) -> str:
    return f"nested more than {limit} levels deep {where} (setting CONCORD_IMPORT_MAX_DEPTH)"


def _too_large(limit: int, where: str) -> str:
    return f"the record is larger than the {limit:,}-byte limit {where} (setting CONCORD_IMPORT_MAX_RECORD_BYTES)"


def head_problem(head: bytes) -> Problem | None:
    """File-level encoding defects visible in the first bytes: empty, UTF-16/32, a byte-order mark."""
    if not head.strip():
        return Problem(1, "", "the file is empty")
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return Problem(1, "", "the file is UTF-32; save it as UTF-8")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _looks_utf16(head):
        return Problem(1, "", "the file is UTF-16; save it as UTF-8")
    if head.startswith(codecs.BOM_UTF8):
        return Problem(1, "", "the file starts with a byte-order mark (BOM); save it as UTF-8 without BOM")
    return None


def _looks_utf16(head: bytes) -> bool:
    sample = head[:200]
    return len(sample) >= 4 and sample.count(b"\x00") >= len(sample) // 3


def read_head(path: Path, size: int = CHUNK) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(size)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """Why a decoded string cannot be stored as given (PostgreSQL refuses NUL and lone surrogates)."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return f"contains a NUL character at position {found.start() + 1}"
    return f"contains invalid Unicode (a lone surrogate) at position {found.start() + 1}"


# Field validation shared by the formats.


def get_text(raw: RawRecord, name: str, *, required: bool, problems: list[Problem], max_length: int = 0) -> str:
    value = raw.data.get(name)
    if (
        type(value) is str
        and (not max_length or len(value) <= max_length)
        and (not required or value.strip())
        and _UNSTORABLE.search(value) is None
    ):
        return value  # the usual case, checked in one go
    if value is None:
        if required:
            problems.append(raw.problem(name, "required field is missing"))
        return ""
    if not isinstance(value, str):
        problems.append(raw.problem(name, f"must be text, found {value_kind(value)}"))
        return ""
    bad = text_problem(value)
    if bad:
        problems.append(raw.problem(name, bad))
        return ""
    if required and not value.strip():
        problems.append(raw.problem(name, "must not be empty"))
    if max_length and len(value) > max_length:
        problems.append(raw.problem(name, f"longer than {max_length} characters"))
    return value


def get_difficulty(raw: RawRecord, name: str, *, required: bool, problems: list[Problem]) -> int | None:
    value = raw.data.get(name)
    if value is None or (isinstance(value, str) and not value.strip() and not required):
        if required:
            problems.append(raw.problem(name, "required field is missing"))
        return None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        number = None
    if number is None or not 1 <= number <= 5:
        problems.append(raw.problem(name, f"unknown difficulty {value!r}: use 1 (easiest) to 5 (hardest)"))
        return None
    return number


def get_id(raw: RawRecord, name: str, *, required: bool, problems: list[Problem]) -> str:
    value = raw.data.get(name)
    if value is None:
        if required:
            problems.append(raw.problem(name, "required field is missing"))
        return ""
    if isinstance(value, bool) or not isinstance(value, int | str):
        problems.append(raw.problem(name, f"must be a number or text, found {value_kind(value)}"))
        return ""
    text = str(value).strip()
    if not text:
        problems.append(raw.problem(name, "must not be empty"))
    elif len(text) > 200:
        problems.append(raw.problem(name, "longer than 200 characters"))
    return text


def value_kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number"
    )
