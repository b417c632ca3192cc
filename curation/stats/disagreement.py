"""Comparing reviewers' answers to one rating form: whether they disagree on a field and how far, the
distribution of their answers (the soft label), and the majority answer. Pure Python, no Django.

Fields are the dicts of a rating form definition (see curation.schemas.definitions); answers are the
reviews' answer dicts keyed by field. A single choice is ordered only when its field says
`"level": "ordinal"`; scales and numbers are always ordered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

MULTI_KINDS = ("multiple_choice", "rubric")
# The rules of curation.models.DisagreementRule, by value.
RULE_SPREAD = "spread"
RULE_SAFETY = "safety"


def _ordinal_choices(schema_field: dict) -> list[Any] | None:
    if schema_field["kind"] == "single_choice" and schema_field.get("level") == "ordinal":
        return [o["value"] for o in schema_field.get("options", [])]
    return None


def _position(schema_field: dict, value: Any) -> float | None:
    """Where an answer sits on an ordered field (a scale point, a number, the rank of an ordinal choice)."""
    kind = schema_field["kind"]
    if kind in ("ordinal_scale", "number") and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    choices = _ordinal_choices(schema_field)
    if choices is not None:
        return float(choices.index(value)) if value in choices else None
    return None


def _width(schema_field: dict) -> float | None:
    kind = schema_field["kind"]
    if kind == "ordinal_scale":
        return float(schema_field["max"] - schema_field["min"])
    if kind == "number" and schema_field.get("min") is not None and schema_field.get("max") is not None:
        return float(schema_field["max"] - schema_field["min"])
    choices = _ordinal_choices(schema_field)
    return float(len(choices) - 1) if choices is not None else None


def _comparable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(sorted(str(v) for v in value))
    return value


def is_answered(schema_field: dict, value: Any) -> bool:
    if schema_field["kind"] in MULTI_KINDS:
        return True  # nothing ticked is an answer too: "none of these"
    return value is not None and value != ""


def _answer(schema_field: dict, answers: dict) -> Any:
    return answers.get(schema_field["key"], [] if schema_field["kind"] in MULTI_KINDS else None)


def _option_labels(schema_field: dict, options: list[dict] | None) -> dict[str, str]:
    if schema_field["kind"] == "rubric":
        return {c["key"]: c.get("label") or c["key"] for c in schema_field.get("criteria", [])}
    return {o["value"]: o.get("label") or o["value"] for o in options or schema_field.get("options", [])}


def _display(value: Any, labels: dict[str, str]) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(labels.get(str(v), str(v)) for v in value) + "]" if value else "(none)"
    return labels.get(str(value), str(value))


@dataclass
class FieldDisagreement:
    key: str
    label: str
    values: list[Any]
    spread: float | None
    severity: float  # 0..1: how far apart, relative to the field's range or to a unanimous answer
    option_labels: dict[str, str] = field(default_factory=dict)

    @property
    def description(self) -> str:
        shown = ", ".join(_display(v, self.option_labels) for v in self.values)
        if self.spread is not None:
            return f"{self.label}: {shown} (spread {self.spread:g})"
        return f"{self.label}: {shown}"


def field_disagreement(
    *, field: dict, answers: list[dict], rule: str, min_spread: int, options: list[dict] | None = None
) -> FieldDisagreement | None:
    """Whether the reviewers' answers to one field disagree under `rule`; free text never does.

    Under the spread rule, answers on an ordered field disagree only when at least `min_spread` apart;
    under the safety rule, no field disagrees (only safety flags send an item to a curator). `options`
    names the choices when the definition leaves them implicit (a pairwise choice's defaults)."""
    if field["kind"] == "free_text" or rule == RULE_SAFETY:
        return None
    present = [v for v in (_answer(field, a) for a in answers) if is_answered(field, v)]
    if len(present) < 2:
        return None
    distinct = Counter(_comparable(v) for v in present)
    if len(distinct) < 2:
        return None
    positions = [p for p in (_position(field, v) for v in present) if p is not None]
    spread = max(positions) - min(positions) if len(positions) == len(present) else None
    if spread is not None:
        if rule == RULE_SPREAD and spread < min_spread:
            return None
        width = _width(field)
        severity = min(1.0, spread / width) if width else 1.0
    else:
        severity = 1 - max(distinct.values()) / len(present)
    return FieldDisagreement(
        key=field["key"],
        label=field.get("label") or field["key"],
        values=present,
        spread=spread,
        severity=round(severity, 4),
        option_labels=_option_labels(field, options),
    )


def soft_label(*, fields: Iterable[dict], answers: list[dict]) -> dict[str, dict]:
    """Per rated field: how many reviewers answered (`n`) and how many gave each value (`counts`).

    For multiple-choice and rubric fields each ticked option counts once per reviewer, so a count
    over `n` is the share of reviewers who ticked it. Values are keyed as text (JSON object keys).
    """
    label = {}
    for schema_field in fields:
        if schema_field["kind"] == "free_text":
            continue
        multi = schema_field["kind"] in MULTI_KINDS
        counts: Counter = Counter()
        n = 0
        for a in answers:
            value = _answer(schema_field, a)
            if not is_answered(schema_field, value):
                continue
            n += 1
            for v in value if multi else [value]:
                counts[str(v)] += 1
        label[schema_field["key"]] = {"n": n, "counts": dict(sorted(counts.items()))}
    return label


def majority_answers(*, fields: Iterable[dict], answers: list[dict]) -> dict[str, Any]:
    """The value most reviewers gave each field. A tie gives nothing: a curator decides. For
    multiple-choice and rubric fields, the options more than half the reviewers ticked."""
    majority: dict[str, Any] = {}
    for schema_field in fields:
        key = schema_field["key"]
        if schema_field["kind"] == "free_text":
            continue
        if schema_field["kind"] in MULTI_KINDS:
            ticked: Counter = Counter(v for a in answers for v in (a.get(key) or []))
            majority[key] = [v for v, c in ticked.items() if c * 2 > len(answers)]
            continue
        values = Counter(_comparable(a.get(key)) for a in answers if is_answered(schema_field, a.get(key)))
        ranked = values.most_common(2)
        if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
            majority[key] = ranked[0][0]
    return majority
