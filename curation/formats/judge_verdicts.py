"""A judge's verdicts from JSONL or CSV: rubric verdicts and pairwise votes, in one file or apart.

A rubric verdict is one per (prompt, response, criterion). Fields: prompt_id; response_id or model
(the response of that model to the prompt); criterion_index (0-based, in the rubric's order) or
criterion (its text); judge and judge_version; met (true/false, also yes/no, 1/0 in CSV).

A pairwise vote is a row with `verdict`: item (a round item's id) or prompt_id; the two answers in
the order the judge was shown them, response_a and response_b (ids) or model_a and model_b; judge and
judge_version; verdict `a` (the answer shown first), `b` (shown second) or `tie`; optionally
swapped_verdict, the judge's verdict on the same pair shown the other way round (a second vote).
"""

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

TRUE = ("true", "yes", "1", "met")
PAIR_VERDICTS = ("a", "b", "tie")
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


@dataclass(frozen=True)
class PairVerdict:
    """One pairwise vote; `first` and `second` name the answers in the order the judge saw them, each by
    response id or by model name, and `verdict` is "a" (the first won), "b" (the second) or "tie"."""

    line: int
    item_id: int | None
    prompt_id: str
    first_id: int | None
    second_id: int | None
    first_model: str
    second_model: str
    judge: str
    judge_version: str
    verdict: str

    def swapped(self, verdict: str) -> "PairVerdict":
        return PairVerdict(
            line=self.line,
            item_id=self.item_id,
            prompt_id=self.prompt_id,
            first_id=self.second_id,
            second_id=self.first_id,
            first_model=self.second_model,
            second_model=self.first_model,
            judge=self.judge,
            judge_version=self.judge_version,
            verdict=verdict,
        )


def _pair_verdict(value: Any, where: str, name: str) -> str:
    text = "" if value is None else str(value).strip().lower()
    if text not in PAIR_VERDICTS:
        raise VerdictFormatError(f"{where}, {name}: {value!r} is not a, b or tie")
    return text


def _text(data: dict, *keys: str) -> dict[str, str]:
    return {k: ("" if data.get(k) is None else str(data.get(k)).strip()) for k in keys}


def pair_verdict_parse(data: dict, line: int) -> list[PairVerdict]:
    """The vote as shown, and the swapped showing when the row gives `swapped_verdict`."""
    where = f"line {line}"
    text = _text(data, "prompt_id", "model_a", "model_b", "judge", "judge_version", "swapped_verdict")
    item = _int(data.get("item"), where, "item")
    if not text["judge"]:
        raise VerdictFormatError(f"{where}, judge: missing")
    if item is None and not text["prompt_id"]:
        raise VerdictFormatError(f"{where}: name the prompt by item (a round item's id) or prompt_id")
    first, second = _int(data.get("response_a"), where, "response_a"), _int(data.get("response_b"), where, "response_b")
    for side, pk in (("a", first), ("b", second)):
        if pk is None and not text[f"model_{side}"]:
            raise VerdictFormatError(f"{where}: name answer {side} by response_{side} or model_{side}")
    vote = PairVerdict(
        line=line,
        item_id=item,
        prompt_id=text["prompt_id"],
        first_id=first,
        second_id=second,
        first_model=text["model_a"],
        second_model=text["model_b"],
        judge=text["judge"],
        judge_version=text["judge_version"],
        verdict=_pair_verdict(data.get("verdict"), where, "verdict"),
    )
    same_id = first is not None and first == second
    if same_id or (first is None and second is None and vote.first_model == vote.second_model):
        raise VerdictFormatError(f"{where}: answers a and b are the same answer")
    if not text["swapped_verdict"]:
        return [vote]
    return [vote, vote.swapped(_pair_verdict(text["swapped_verdict"], where, "swapped_verdict"))]


def _is_pairwise(data: Any) -> bool:
    return isinstance(data, dict) and data.get("verdict") not in (None, "")


def verdict_parse(data: Any, line: int) -> Verdict:
    where = f"line {line}"
    if not isinstance(data, dict):
        raise VerdictFormatError(f"{where}: must be an object, got {type(data).__name__}")
    text = _text(data, "prompt_id", "model", "criterion", "judge", "judge_version")
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


def any_verdict_parse(data: Any, line: int) -> list[Verdict | PairVerdict]:
    """A row with `verdict` is a pairwise vote (one or two), any other a rubric verdict."""
    return pair_verdict_parse(data, line) if _is_pairwise(data) else [verdict_parse(data, line)]


def verdicts_read(text: str, *, name: str = "") -> list[Verdict | PairVerdict]:
    """CSV when the name ends in .csv or the first line is not a JSON object; JSONL otherwise.
    Line numbers count from the file's first line (a CSV's header is line 1)."""
    first = text.lstrip()[:1]
    if name.lower().endswith(".csv") or (first and first != "{"):
        reader = csv.DictReader(io.StringIO(text))
        verdicts = [v for n, row in enumerate(reader, start=2) for v in any_verdict_parse(row, n)]
        if not verdicts:
            raise VerdictFormatError("the file has no verdicts")
        return verdicts
    verdicts: list[Verdict | PairVerdict] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise VerdictFormatError(f"line {n}: not JSON ({exc.msg} at column {exc.colno})") from None
        verdicts.extend(any_verdict_parse(data, n))
    if not verdicts:
        raise VerdictFormatError("the file has no verdicts")
    return verdicts
