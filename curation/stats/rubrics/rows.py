"""HealthBench rows and meta-evaluation rows, parsed and validated with errors naming the row and field."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

LEVELS = ("example", "cluster")
AXES = ("accuracy", "completeness", "communication_quality", "context_awareness", "instruction_following")
ROLES = ("system", "developer", "user", "assistant")
MAX_POINTS = 10
NO_POSITIVE_POINTS = "no criterion has positive points, so there is nothing to divide by"


class RubricFormatError(ValueError):
    """A row that does not follow the rubric format; the message names the row and the field."""

    def __init__(self, where: str, field_name: str, problem: str):
        self.where = where
        self.field = field_name
        self.problem = problem
        super().__init__(f"{where}, {field_name}: {problem}")


# Parsed rows.


@dataclass(frozen=True)
class Message:
    role: str
    content: str


@dataclass(frozen=True)
class Criterion:
    text: str
    points: float
    tags: tuple[str, ...]

    @property
    def level(self) -> str:
        return next(t.split(":", 1)[1] for t in self.tags if t.startswith("level:"))

    @property
    def axis(self) -> str:
        return next(t.split(":", 1)[1] for t in self.tags if t.startswith("axis:"))

    @property
    def cluster(self) -> str | None:
        return next((t.split(":", 1)[1] for t in self.tags if t.startswith("cluster:")), None)


@dataclass(frozen=True)
class HealthBenchRow:
    prompt_id: str
    prompt: tuple[Message, ...]
    example_tags: tuple[str, ...]
    criteria: tuple[Criterion, ...]
    # Kept as read: reference answers are shown to people, never scored here.
    ideal_completions_data: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class MetaEvalRow:
    prompt: tuple[Message, ...]
    completion: tuple[Message, ...]
    rubric: str
    category: str
    binary_labels: tuple[bool, ...]
    physician_ids: tuple[str, ...]
    prompt_id: str | None = None
    completion_id: str | None = None


# Parsing and validation. Every check raises RubricFormatError on the first problem it finds.


def _where(row: int | None, data: Mapping[str, Any], id_field: str) -> str:
    label = f"row {row}" if row is not None else "row"
    ident = data.get(id_field) if isinstance(data, Mapping) else None
    return f"{label} ({id_field} {ident!r})" if isinstance(ident, str) and ident else label


def _require(data: Mapping[str, Any], key: str, where: str, prefix: str = "") -> Any:
    if key not in data:
        raise RubricFormatError(where, f"{prefix}{key}", "missing")
    return data[key]


def _text(value: Any, where: str, name: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise RubricFormatError(where, name, f"must be text, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise RubricFormatError(where, name, "is empty")
    return value


def _messages(value: Any, where: str, name: str) -> tuple[Message, ...]:
    if not isinstance(value, list) or not value:
        raise RubricFormatError(where, name, "must be a non-empty list of chat messages {role, content}")
    out = []
    for i, message in enumerate(value):
        at = f"{name}[{i}]"
        if not isinstance(message, Mapping):
            raise RubricFormatError(where, at, f"must be an object {{role, content}}, got {type(message).__name__}")
        role = _text(_require(message, "role", where, f"{at}."), where, f"{at}.role")
        if role not in ROLES:
            raise RubricFormatError(where, f"{at}.role", f"{role!r} is not one of {', '.join(ROLES)}")
        content = _text(_require(message, "content", where, f"{at}."), where, f"{at}.content", allow_empty=True)
        out.append(Message(role=role, content=content))
    return tuple(out)


def _points(value: Any, where: str, name: str) -> float:
    # bool is an int in Python; `true` as points is a mistake, not 1 point.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RubricFormatError(where, name, f"must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise RubricFormatError(where, name, f"{value} is not a finite number")
    if value == 0:
        raise RubricFormatError(where, name, "is 0; a criterion must add or subtract points")
    if not -MAX_POINTS <= value <= MAX_POINTS:
        raise RubricFormatError(where, name, f"{value} is outside [-{MAX_POINTS}, {MAX_POINTS}]")
    return value


def _tag_pair(tag: Any, where: str, name: str) -> tuple[str, str]:
    tag = _text(tag, where, name)
    prefix, sep, value = tag.partition(":")
    if not sep or not prefix or not value or tag != tag.strip():
        raise RubricFormatError(where, name, f"{tag!r} is not of the shape 'kind:value'")
    return prefix, value


def _criterion_tags(value: Any, where: str, name: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise RubricFormatError(where, name, f"must be a list of tags, got {type(value).__name__}")
    kinds: dict[str, list[str]] = defaultdict(list)
    for j, tag in enumerate(value):
        at = f"{name}[{j}]"
        prefix, tag_value = _tag_pair(tag, where, at)
        if prefix == "level" and tag_value not in LEVELS:
            raise RubricFormatError(where, at, f"{tag!r}: the level is one of {', '.join(LEVELS)}")
        if prefix == "axis" and tag_value not in AXES:
            raise RubricFormatError(where, at, f"{tag!r}: the axis is one of {', '.join(AXES)}")
        if prefix not in ("level", "axis", "cluster"):
            raise RubricFormatError(where, at, f"{tag!r}: a criterion's tags are level:, axis: and cluster:")
        kinds[prefix].append(tag_value)
    for kind in ("level", "axis"):
        if len(kinds[kind]) != 1:
            raise RubricFormatError(where, name, f"needs exactly one {kind}: tag, has {len(kinds[kind])}")
    if len(kinds["cluster"]) > 1:
        raise RubricFormatError(where, name, f"has {len(kinds['cluster'])} cluster: tags, at most one is allowed")
    # Consensus criteria are written once per cluster and shared across examples; the cluster names it.
    if kinds["level"][0] == "cluster" and not kinds["cluster"]:
        raise RubricFormatError(where, name, "a level:cluster criterion needs its cluster: tag")
    if kinds["level"][0] == "example" and kinds["cluster"]:
        raise RubricFormatError(where, name, "a level:example criterion cannot carry a cluster: tag")
    return tuple(value)


def parse_criterion(data: Any, *, where: str = "criterion", name: str = "rubrics[0]") -> Criterion:
    if not isinstance(data, Mapping):
        raise RubricFormatError(
            where, name, f"must be an object {{criterion, points, tags}}, got {type(data).__name__}"
        )
    text = _text(_require(data, "criterion", where, f"{name}."), where, f"{name}.criterion")
    points = _points(_require(data, "points", where, f"{name}."), where, f"{name}.points")
    tags = _criterion_tags(_require(data, "tags", where, f"{name}."), where, f"{name}.tags")
    return Criterion(text=text, points=points, tags=tags)


def parse_healthbench_row(data: Any, *, row: int | None = None) -> HealthBenchRow:
    """One rubric row: `prompt`, `prompt_id`, `example_tags`, `rubrics`, optionally `ideal_completions_data`."""
    if not isinstance(data, Mapping):
        raise RubricFormatError(_where(row, {}, "prompt_id"), "row", f"must be an object, got {type(data).__name__}")
    where = _where(row, data, "prompt_id")
    prompt_id = _text(_require(data, "prompt_id", where), where, "prompt_id")
    prompt = _messages(_require(data, "prompt", where), where, "prompt")
    raw_tags = _require(data, "example_tags", where)
    if not isinstance(raw_tags, list):
        raise RubricFormatError(where, "example_tags", f"must be a list of tags, got {type(raw_tags).__name__}")
    for j, tag in enumerate(raw_tags):
        _tag_pair(tag, where, f"example_tags[{j}]")
    if len(set(raw_tags)) != len(raw_tags):
        raise RubricFormatError(where, "example_tags", "lists a tag twice")
    rubrics = _require(data, "rubrics", where)
    if not isinstance(rubrics, list) or not rubrics:
        raise RubricFormatError(where, "rubrics", "must be a non-empty list of criteria")
    criteria = tuple(parse_criterion(c, where=where, name=f"rubrics[{i}]") for i, c in enumerate(rubrics))
    ideal = data.get("ideal_completions_data")
    if ideal is not None and not isinstance(ideal, Mapping):
        raise RubricFormatError(
            where, "ideal_completions_data", f"must be an object or null, got {type(ideal).__name__}"
        )
    return HealthBenchRow(
        prompt_id=prompt_id,
        prompt=prompt,
        example_tags=tuple(raw_tags),
        criteria=criteria,
        ideal_completions_data=ideal,
    )


def parse_healthbench_rows(rows: Iterable[Any]) -> list[HealthBenchRow]:
    """Rows numbered from 1 in messages; a prompt_id used twice is an error naming both rows."""
    parsed: list[HealthBenchRow] = []
    seen: dict[str, int] = {}
    for n, data in enumerate(rows, start=1):
        item = parse_healthbench_row(data, row=n)
        if item.prompt_id in seen:
            raise RubricFormatError(
                _where(n, data, "prompt_id"), "prompt_id", f"already used by row {seen[item.prompt_id]}"
            )
        seen[item.prompt_id] = n
        parsed.append(item)
    return parsed


def parse_meta_eval_row(data: Any, *, row: int | None = None) -> MetaEvalRow:
    """One physician-labelled row: `prompt`, `completion`, `rubric`, `category`, `binary_labels`,
    `anonymized_physician_ids` (one id per label, in the same order)."""
    if not isinstance(data, Mapping):
        raise RubricFormatError(_where(row, {}, "prompt_id"), "row", f"must be an object, got {type(data).__name__}")
    where = _where(row, data, "prompt_id")
    prompt = _messages(_require(data, "prompt", where), where, "prompt")
    raw_completion = _require(data, "completion", where)
    if isinstance(raw_completion, str):
        completion = (Message(role="assistant", content=_text(raw_completion, where, "completion")),)
    else:
        completion = _messages(raw_completion, where, "completion")
    rubric = _text(_require(data, "rubric", where), where, "rubric")
    category = _text(_require(data, "category", where), where, "category")
    labels = _require(data, "binary_labels", where)
    if not isinstance(labels, list) or not labels:
        raise RubricFormatError(where, "binary_labels", "must be a non-empty list of true/false")
    for j, label in enumerate(labels):
        if not isinstance(label, bool):
            raise RubricFormatError(where, f"binary_labels[{j}]", f"must be true or false, got {label!r}")
    ids = _require(data, "anonymized_physician_ids", where)
    if not isinstance(ids, list):
        raise RubricFormatError(where, "anonymized_physician_ids", f"must be a list, got {type(ids).__name__}")
    if len(ids) != len(labels):
        raise RubricFormatError(
            where, "anonymized_physician_ids", f"has {len(ids)} ids for {len(labels)} binary_labels; one id per label"
        )
    physician_ids = []
    for j, ident in enumerate(ids):
        if (
            isinstance(ident, bool)
            or not isinstance(ident, str | int)
            or (isinstance(ident, str) and not ident.strip())
        ):
            raise RubricFormatError(where, f"anonymized_physician_ids[{j}]", f"must be a non-empty id, got {ident!r}")
        physician_ids.append(str(ident))
    if len(set(physician_ids)) != len(physician_ids):
        raise RubricFormatError(where, "anonymized_physician_ids", "lists a physician twice")
    optional = {}
    for key in ("prompt_id", "completion_id"):
        if data.get(key) is not None:
            optional[key] = _text(data[key], where, key)
    return MetaEvalRow(
        prompt=prompt,
        completion=completion,
        rubric=rubric,
        category=category,
        binary_labels=tuple(labels),
        physician_ids=tuple(physician_ids),
        **optional,
    )


def parse_meta_eval_rows(rows: Iterable[Any]) -> list[MetaEvalRow]:
    return [parse_meta_eval_row(data, row=n) for n, data in enumerate(rows, start=1)]
