"""Streaming readers of import files: text lines, JSON Lines and JSON arrays, one record at a time, with the
nesting and size limits enforced while reading so that no input can take unbounded memory."""

import codecs
import io
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson

from curation.formats.base import (
    CHUNK,
    NUL,
    Problem,
    RawRecord,
    _too_deep,
    _too_large,
    max_depth,
    max_record_bytes,
    read_head,
    value_kind,
)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON (use null or a number)")


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose field appears twice would silently keep the last value: refuse it instead."""
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return value


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, object_pairs_hook=_unique_keys)


def duplicate_key_reason(key: str) -> str:
    return f"the field {key!r} appears twice in one object; keep one (JSON readers would silently use the last)"


def _checked_object(value: Any, where: int, unit: str, file_line: int | None = None) -> RawRecord | Problem:
    if type(value) is not dict:
        return Problem(where, "", f"expected a JSON object, found {value_kind(value)}", unit, file_line)
    for key, item in value.items():
        if type(item) is float and not math.isfinite(item):
            return Problem(where, key, "NaN and Infinity are not valid JSON values", unit, file_line)
    return RawRecord(where, value, unit, file_line)


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
        line = text.rstrip("\r\n")  # so that a line cut short ends the text, not a newline inside a string
        try:
            value = _DECODER.decode(line)
        except _DuplicateKey as exc:
            yield Problem(number, exc.key, duplicate_key_reason(exc.key))
            continue
        except RecursionError:  # only with a depth limit set beyond what the parser can follow
            yield Problem(
                number, "", f"nested too deeply to read; lower the setting CONCORD_IMPORT_MAX_DEPTH ({limit})"
            )
            continue
        except json.JSONDecodeError as exc:
            yield Problem(number, "", f"malformed JSON: {_decode_error(exc, line)}")
            continue
        except ValueError as exc:  # NaN or Infinity, refused by _reject_constant
            yield Problem(number, "", f"malformed JSON: {exc}")
            continue
        yield _checked_object(value, number, "line")


def _decode_error(exc: json.JSONDecodeError, line: str) -> str:
    """The decoder's message placed in the line of the file. Its own "line 1 column 5 (char 4)" counts
    within the text it was given, one line here, and would contradict the line the problem names."""
    where = "the end of the line" if exc.pos >= len(line) else f"column {exc.pos + 1}"
    return f"{exc.msg} {where}" if exc.msg.endswith(" at") else f"{exc.msg} at {where}"


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

    One loop over the parser's events, its branches inline on purpose: it runs once per JSON token
    of every imported file, and a function call per token would cost a large share of import time.
    """
    size_limit, depth_limit = max_record_bytes(), max_depth()
    count = depth = size = 0
    record: dict | list | None = None
    stack: list[dict | list] = []  # the record's containers still open, outermost first
    key = ""
    skipping = False
    start = 0  # the file line the current record starts on
    duplicate = ""
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
                    count, size, skipping, start, duplicate = count + 1, 0, False, reader.line, ""
                    if event == "start_map":
                        record, depth = {}, 1
                        stack = [record]
                    else:
                        kind = "an array" if event == "start_array" else value_kind(value)
                        yield Problem(count, "", f"expected a JSON object, found {kind}", "record", start)
                        depth, skipping = (1, True) if event == "start_array" else (0, False)
                elif event == "start_map" or event == "start_array":
                    depth += 1
                    if depth > depth_limit:
                        # Reading on would cost a parser event per bracket of what may be millions.
                        reason = _too_deep(depth_limit, f"on line {reader.line}")
                        yield Problem(count, "", f"{reason}; the rest of the file was not read", "record", start)
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
                        if duplicate:
                            yield Problem(count, duplicate, duplicate_key_reason(duplicate), "record", start)
                        else:
                            yield _checked_object(record, count, "record", start)
                        record = None
                elif not skipping:
                    if event == "map_key":
                        key = value
                        if not duplicate and key in stack[-1]:
                            duplicate = key
                        size += len(value) + 3
                    else:
                        _add(stack[-1], key, value)
                        size += len(value) + 2 if event == "string" else 8
                    if size > size_limit:
                        yield Problem(count, "", _too_large(size_limit, f"on line {reader.line}"), "record", start)
                        skipping, record, stack = True, None, []
        except _ByteProblem as exc:
            yield exc.problem
        except _TokenTooLong:
            reason = _too_large(size_limit, f"on line {reader.line}")
            yield Problem(count + (depth == 0), "", reason, "record", start if depth else None)
        except ijson.common.JSONError as exc:
            # The parser is handed one line per read and fails on the read that holds the error, so the
            # error is on `reader.line` (at the end of a truncated file, its last line); yajl gives no column.
            # Between records (depth 0) the next record has not started: it has no line of its own yet.
            reason = f"malformed or truncated JSON on line {reader.line}: {_short(exc)}"
            yield Problem(count + (depth == 0), "", reason, "record", start if depth else None)


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
