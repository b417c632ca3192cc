"""Reading import files record by record, never whole, turning every defect into a `Problem`.

Each format module turns raw records (a JSON object or a CSV row, with where it came from) into
typed records or problems. The byte-level checks live here so every format reports a NUL byte,
invalid UTF-8, a UTF-16 file, a byte-order mark, NaN or an oversized line the same way: with the
line (or, inside a JSON array, the record number), the field and the reason.
"""

import codecs
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ijson
from django.conf import settings

CHUNK = 1 << 16
NUL = b"\x00"
MAX_DEPTH = 32


@dataclass(frozen=True)
class Problem:
    """One defect: `line` is a file line, or for a JSON array the record number (`unit` says which)."""

    line: int | None
    field: str
    reason: str
    unit: str = "line"

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "unit": self.unit, "field": self.field, "reason": self.reason}

    def __str__(self) -> str:
        where = f"{self.unit} {self.line}" if self.line is not None else "file"
        return f"{where}: {self.field + ': ' if self.field else ''}{self.reason}"


@dataclass(frozen=True)
class RawRecord:
    line: int
    data: dict[str, Any]
    unit: str = "line"

    def problem(self, field_name: str, reason: str) -> Problem:
        return Problem(self.line, field_name, reason, self.unit)


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


Record = SeedTaskRecord | PromptRecord | ResponseRecord


def max_record_bytes() -> int:
    return int(getattr(settings, "CONCORD_IMPORT_MAX_RECORD_BYTES", 1_000_000))


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


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON (use null or a number)")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            return depth
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number"
    )


def _checked_object(value: Any, where: int, unit: str) -> RawRecord | Problem:
    if type(value) is not dict:
        return Problem(where, "", f"expected a JSON object, found {_kind(value)}", unit)
    nested = False
    for key, item in value.items():
        kind = type(item)
        if kind is dict or kind is list:
            nested = True
        elif kind is float and not math.isfinite(item):
            return Problem(where, key, "NaN and Infinity are not valid JSON values", unit)
    if nested and _depth(value) > MAX_DEPTH:
        return Problem(where, "", f"nested more than {MAX_DEPTH} levels deep", unit)
    return RawRecord(where, value, unit)


def iter_lines(path: Path) -> Iterator[tuple[int, str] | Problem]:
    """Decoded lines with their numbers, each checked for size, NUL bytes and UTF-8, read in bounded pieces."""
    limit = max_record_bytes()
    with open(path, "rb") as handle:
        number = 0
        while True:
            raw = handle.readline(limit + 1)
            if not raw:
                return
            number += 1
            if len(raw) > limit and not raw.endswith(b"\n"):
                while True:  # skip the rest of the oversized line without holding it
                    rest = handle.readline(CHUNK)
                    if not rest or rest.endswith(b"\n"):
                        break
                yield Problem(number, "", f"the line is longer than the {limit:,}-byte limit for one record")
                continue
            if NUL in raw:
                yield Problem(number, "", f"contains a NUL byte at column {raw.index(NUL) + 1}")
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield Problem(number, "", f"invalid UTF-8 at column {exc.start + 1}; save the file as UTF-8")
                continue
            yield number, text


def iter_jsonl(path: Path) -> Iterator[RawRecord | Problem]:
    for item in iter_lines(path):
        if isinstance(item, Problem):
            yield item
            continue
        number, text = item
        if not text.strip():
            continue
        try:
            value = _DECODER.decode(text)
        except RecursionError:
            yield Problem(number, "", f"nested more than {MAX_DEPTH} levels deep")
            continue
        except ValueError as exc:
            yield Problem(number, "", f"malformed JSON: {exc}")
            continue
        yield _checked_object(value, number, "line")


class _ByteProblem(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


class _CheckedReader:
    """A binary stream for ijson that refuses NUL bytes and invalid UTF-8, naming the line they are on."""

    def __init__(self, handle):
        self.handle = handle
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.line = 1

    def read(self, size: int = CHUNK) -> bytes:
        chunk = self.handle.read(size)
        if b"\x00" in chunk:
            nul = chunk.index(b"\x00")
            raise _ByteProblem(Problem(self.line + chunk.count(b"\n", 0, nul), "", "contains a NUL byte"))
        try:
            self.decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            line = self.line + chunk.count(b"\n", 0, max(exc.start, 0))
            raise _ByteProblem(Problem(line, "", "invalid UTF-8; save the file as UTF-8")) from None
        self.line += chunk.count(b"\n")
        return chunk


def iter_json_array(path: Path) -> Iterator[RawRecord | Problem]:
    """Objects of a top-level JSON array, one at a time (ijson), numbered from 1 as records."""
    limit = max_record_bytes()
    count = 0
    with open(path, "rb") as handle:
        reader = _CheckedReader(handle)
        try:
            for value in ijson.items(reader, "item", use_float=True):
                count += 1
                record = _checked_object(value, count, "record")
                if isinstance(record, RawRecord) and _size(record.data) > limit:
                    record = Problem(count, "", f"the record is larger than the {limit:,}-byte limit", "record")
                yield record
        except _ByteProblem as exc:
            yield exc.problem
        except ijson.common.JSONError as exc:
            # yajl reports every syntax error as "incomplete"; the record number is exact, a line would not be.
            yield Problem(count + 1, "", f"malformed or truncated JSON: {_short(exc)}", "record")
        except RecursionError:
            yield Problem(count + 1, "", f"nested more than {MAX_DEPTH} levels deep", "record")


def _size(data: dict) -> int:
    return sum(len(v) for v in data.values() if isinstance(v, str))


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else exc.__class__.__name__


def first_char(path: Path) -> str:
    head = read_head(path, 4096).lstrip()
    return head[:1].decode("ascii", "replace")


def iter_json_records(path: Path) -> Iterator[RawRecord | Problem]:
    """A JSON array or JSON Lines, whichever the file is; anything else is a problem on line 1."""
    first = first_char(path)
    if first == "[":
        yield from iter_json_array(path)
    elif first == "{":
        yield from iter_jsonl(path)
    else:
        yield Problem(1, "", "expected a JSON array of objects or one JSON object per line (JSONL)")


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
        problems.append(raw.problem(name, f"must be text, found {_kind(value)}"))
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
        problems.append(raw.problem(name, f"must be a number or text, found {_kind(value)}"))
        return ""
    text = str(value).strip()
    if not text:
        problems.append(raw.problem(name, "must not be empty"))
    elif len(text) > 200:
        problems.append(raw.problem(name, "longer than 200 characters"))
    return text
