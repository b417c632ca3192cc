"""Byte-exact encodings for release files: the same rows always give the same bytes."""

import csv
import hashlib
import hmac
import io
import json
from typing import Any

_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(", ", ": "))
# Line and paragraph separators and NEL are valid raw in JSON strings, but str.splitlines() (and readers
# built on it) splits lines at them, so a JSONL line holding one reads as two broken halves.
LINE_BREAKERS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\u0085": "\\u0085"}
# Spreadsheets treat a cell starting with one of these as a formula, the full-width forms included
# (some convert them), also after blanks they strip; a cell starting with a tab or a carriage return
# is guarded whatever follows.
FORMULA_SIGNS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
STRIPPED_BLANKS = " \t\r\n\u00a0\u3000"
FORMULA_TRIGGERS = ("\t", "\r", *FORMULA_SIGNS)


def jsonl_line(row: dict[str, Any]) -> bytes:
    """One strict JSON object per line: UTF-8, no NaN or Infinity, keys in the order the row builder chose.

    Key order is deterministic because every row builder writes its keys in a fixed order; sorting
    them would scatter `instruction`, `input` and `output`, which readers expect first.
    """
    text = _JSON.encode(row)
    for raw, escaped in LINE_BREAKERS.items():
        text = text.replace(raw, escaped)  # they occur only inside strings, where the escape means the same
    return text.encode("utf-8") + b"\n"


def csv_safe(value: Any) -> Any:
    """A cell a spreadsheet shows as text: formula-looking text gets a leading apostrophe.

    Numbers stay numbers (a negative score is not a formula); everything else is text.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS) or text.lstrip(STRIPPED_BLANKS).startswith(FORMULA_SIGNS):
        return "'" + text
    return text


def csv_line(cells: list[Any]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([csv_safe(cell) for cell in cells])
    return buffer.getvalue().encode("utf-8")


def pseudonym(*, salt: str, user_id: int) -> str:
    """A reviewer id keyed by the release's salt: the same in every release of one definition (the salt
    derives from the project's key and the definition), unlinkable across definitions and key rotations."""
    digest = hmac.new(salt.encode("ascii"), str(user_id).encode("ascii"), hashlib.sha256).hexdigest()
    return f"reviewer-{digest[:12]}"
