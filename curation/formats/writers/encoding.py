"""Byte-exact encodings for release files: the same rows always give the same bytes."""

import csv
import hashlib
import hmac
import io
import json
from typing import Any

_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(", ", ": "))
# Spreadsheets treat a cell starting with one of these as a formula (or strip it and then do).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def jsonl_line(row: dict[str, Any]) -> bytes:
    """One strict JSON object per line: UTF-8, no NaN or Infinity, keys in the order the row builder chose.

    Key order is deterministic because every row builder writes its keys in a fixed order; sorting
    them would scatter `instruction`, `input` and `output`, which readers expect first.
    """
    return _JSON.encode(row).encode("utf-8") + b"\n"


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
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def csv_line(cells: list[Any]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([csv_safe(cell) for cell in cells])
    return buffer.getvalue().encode("utf-8")


def pseudonym(*, salt: str, user_id: int) -> str:
    """A reviewer id that is stable within one release and unlinkable across releases (each has its own salt)."""
    digest = hmac.new(salt.encode("ascii"), str(user_id).encode("ascii"), hashlib.sha256).hexdigest()
    return f"reviewer-{digest[:12]}"
