"""A judge's verdicts, one per (prompt, response, criterion), from JSONL or CSV.

Fields: prompt_id; response_id or model (the response of that model to the prompt); criterion_index
(0-based, in the rubric's order) or criterion (its text); judge and judge_version; met (true/false,
also yes/no, 1/0 in CSV).
"""

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

TRUE = ("true", "yes", "1", "met")
FALSE = ("false", "no", "0", "not met", "not_met")


class VerdictFormatError(ValueError):
    pass


@dataclass(frozen=True)
class Verdict:
    line: int
    prompt_id: str
    response_id: int | None
    model: str
    criterion_index: int | None
    criterion: str
    judge: str
    judge_version: str
    met: bool


def _met(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
        return value.strip().lower() in TRUE
    raise VerdictFormatError(f"{where}, met: {value!r} is not true or false")


def _int(value: Any, where: str, name: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise VerdictFormatError(f"{where}, {name}: {value!r} is not a whole number")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise VerdictFormatError(f"{where}, {name}: {value!r} is not a whole number") from None
    if number < 0:
        raise VerdictFormatError(f"{where}, {name}: {number} is negative")
    return number


def verdict_parse(data: Any, line: int) -> Verdict:
    where = f"line {line}"
    if not isinstance(data, dict):
        raise VerdictFormatError(f"{where}: must be an object, got {type(data).__name__}")
    text = {
        k: ("" if data.get(k) is None else str(data.get(k)).strip())
        for k in ("prompt_id", "model", "criterion", "judge", "judge_version")
    }
    for required in ("prompt_id", "judge"):
        if not text[required]:
            raise VerdictFormatError(f"{where}, {required}: missing")
    response_id = _int(data.get("response_id"), where, "response_id")
    index = _int(data.get("criterion_index"), where, "criterion_index")
    if response_id is None and not text["model"]:
        raise VerdictFormatError(f"{where}: name the response by response_id or model")
    if index is None and not text["criterion"]:
        raise VerdictFormatError(f"{where}: name the criterion by criterion_index or criterion")
    if "met" not in data:
        raise VerdictFormatError(f"{where}, met: missing")
    return Verdict(
        line=line,
        prompt_id=text["prompt_id"],
        response_id=response_id,
        model=text["model"],
        criterion_index=index,
        criterion=text["criterion"],
        judge=text["judge"],
        judge_version=text["judge_version"],
        met=_met(data["met"], where),
    )


def verdicts_read(text: str, *, name: str = "") -> list[Verdict]:
    """CSV when the name ends in .csv or the first line is not a JSON object; JSONL otherwise."""
    first = text.lstrip()[:1]
    if name.lower().endswith(".csv") or (first and first != "{"):
        reader = csv.DictReader(io.StringIO(text))
        return [verdict_parse(row, n) for n, row in enumerate(reader, start=2)]
    verdicts = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise VerdictFormatError(f"line {n}: not JSON ({exc.msg} at column {exc.colno})") from None
        verdicts.append(verdict_parse(data, n))
    if not verdicts:
        raise VerdictFormatError("the file has no verdicts")
    return verdicts
