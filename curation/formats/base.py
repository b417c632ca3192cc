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
import io
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


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON (use null or a number)")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number"
    )


def _checked_object(value: Any, where: int, unit: str) -> RawRecord | Problem:
    if type(value) is not dict:
        return Problem(where, "", f"expected a JSON object, found {_kind(value)}", unit)
    for key, item in value.items():
        if type(item) is float and not math.isfinite(item):
            return Problem(where, key, "NaN and Infinity are not valid JSON values", unit)
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


# A JSON string (escapes and all) or one structural character; a lone quote starts an unterminated string.
_STRUCTURE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}"]')


def nesting_column(text: str, limit: int) -> int | None:
    """The column at which `text` opens its (limit + 1)th level of objects or arrays, else None.

    Brackets inside strings do not count. The scan stops at the first level too many, so a line
    nested a hundred thousand levels deep costs a few dozen steps and never reaches `json.loads`.
    Malformed JSON is left to the parser to describe.
    """
    if text.count("[") + text.count("{") <= limit:
        return None  # too few opening brackets to pass the limit: the usual case, counted in C
    depth = 0
    for match in _STRUCTURE.finditer(text):
        char = text[match.start()]
        if char == "[" or char == "{":
            depth += 1
            if depth > limit:
                return match.start() + 1
        elif char == "]" or char == "}":
            depth -= 1
        elif match.end() - match.start() == 1:
            return None
    return None


def iter_jsonl(path: Path) -> Iterator[RawRecord | Problem]:
    limit = max_depth()
    for item in iter_lines(path):
        if isinstance(item, Problem):
            yield item
            continue
        number, text = item
        if not text.strip():
            continue
        column = nesting_column(text, limit)
        if column is not None:
            yield Problem(number, "", _too_deep(limit, f"at column {column}"))
            continue
        try:
            value = _DECODER.decode(text)
        except RecursionError:  # only with a depth limit set beyond what the parser can follow
            yield Problem(
                number, "", f"nested too deeply to read; lower the setting CONCORD_IMPORT_MAX_DEPTH ({limit})"
            )
            continue
        except ValueError as exc:
            yield Problem(number, "", f"malformed JSON: {exc}")
            continue
        yield _checked_object(value, number, "line")


class _ByteProblem(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem


class _TokenTooLong(Exception):
    """The parser saw no event in more bytes than a record may hold: one string or number is that long."""


class _CheckedReader:
    """A binary stream for ijson that refuses NUL bytes and invalid UTF-8, naming the line they are on.

    The file is checked in blocks, but handed to the parser at most one line per read, so the
    events of a read come from line `line`. `unparsed` counts the bytes read since the caller last
    saw an event: past the record limit, a single value is longer than any record may be, and
    reading stops before the parser holds it.
    """

    def __init__(self, handle, limit: int):
        self.handle = handle
        self.limit = limit
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.block = io.BytesIO()
        self.block_line = 1  # the line the next block starts on
        self.line = 0
        self.line_ended = True
        self.unparsed = 0

    def _next_block(self) -> None:
        data = self.handle.read(CHUNK)
        if NUL in data:
            line = self.block_line + data.count(b"\n", 0, data.index(NUL))
            raise _ByteProblem(Problem(line, "", "contains a NUL byte"))
        try:
            self.decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            line = self.block_line + data.count(b"\n", 0, max(exc.start, 0))
            raise _ByteProblem(Problem(line, "", "invalid UTF-8; save the file as UTF-8")) from None
        self.block_line += data.count(b"\n")
        self.block = io.BytesIO(data)

    def read(self, size: int = CHUNK) -> bytes:
        chunk = self.block.readline(size)
        if not chunk and size:  # ijson's first read is of 0 bytes
            self._next_block()
            chunk = self.block.readline(size)
        if chunk:
            if self.unparsed > self.limit:  # a read is one line, which may hold many events: count before it
                raise _TokenTooLong
            self.line += self.line_ended
            self.line_ended = chunk[-1] == 10  # b"\n"
            self.unparsed += len(chunk)
        return chunk


def _add(container: dict | list, key: str, value: Any) -> None:
    if type(container) is dict:
        container[key] = value
    else:
        container.append(value)


def iter_json_array(path: Path) -> Iterator[RawRecord | Problem]:
    """Objects of a top-level JSON array, one at a time, numbered from 1 as records.

    Records are assembled here from ijson's parser events (not with `ijson.items`, whose prefix
    bookkeeping grows with the square of the nesting depth), counting each record's depth and
    size as it grows. A record past either limit is dropped at once with a problem naming it and
    its line. Past the size limit the rest of the record is read without being kept and the next
    record read as usual; past the depth limit reading stops.
    """
    size_limit, depth_limit = max_record_bytes(), max_depth()
    count = depth = size = 0
    record: dict | list | None = None
    stack: list[dict | list] = []  # the record's containers still open, outermost first
    key = ""
    skipping = False
    with open(path, "rb") as handle:
        reader = _CheckedReader(handle, size_limit)
        events = ijson.basic_parse(reader, use_float=True)
        try:
            next(events, None)  # the array's opening bracket (the caller checked the first character)
            for event, value in events:
                reader.unparsed = 0
                if depth == 0:  # between records
                    if event == "end_array":
                        continue
                    count, size, skipping = count + 1, 0, False
                    if event == "start_map":
                        record, depth = {}, 1
                        stack = [record]
                    else:
                        kind = "an array" if event == "start_array" else _kind(value)
                        yield Problem(count, "", f"expected a JSON object, found {kind}", "record")
                        depth, skipping = (1, True) if event == "start_array" else (0, False)
                elif event == "start_map" or event == "start_array":
                    depth += 1
                    if depth > depth_limit:
                        # Reading on would cost a parser event per bracket of what may be millions.
                        reason = _too_deep(depth_limit, f"on line {reader.line}")
                        yield Problem(count, "", f"{reason}; the rest of the file was not read", "record")
                        return
                    if skipping:
                        continue
                    container: dict | list = {} if event == "start_map" else []
                    _add(stack[-1], key, container)
                    stack.append(container)
                    size += 2
                elif event == "end_map" or event == "end_array":
                    depth -= 1
                    if skipping:
                        continue
                    stack.pop()
                    if depth == 0:
                        yield _checked_object(record, count, "record")
                        record = None
                elif not skipping:
                    if event == "map_key":
                        key = value
                        size += len(value) + 3
                    else:
                        _add(stack[-1], key, value)
                        size += len(value) + 2 if event == "string" else 8
                    if size > size_limit:
                        yield Problem(count, "", _too_large(size_limit, f"on line {reader.line}"), "record")
                        skipping, record, stack = True, None, []
        except _ByteProblem as exc:
            yield exc.problem
        except _TokenTooLong:
            yield Problem(count + (depth == 0), "", _too_large(size_limit, f"on line {reader.line}"), "record")
        except ijson.common.JSONError as exc:
            # yajl reports every syntax error as "incomplete"; the record number is exact, a line would not be.
            yield Problem(count + (depth == 0), "", f"malformed or truncated JSON: {_short(exc)}", "record")


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
