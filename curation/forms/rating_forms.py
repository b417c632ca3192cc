"""The rating-form editor's rows: a definition (curation.schemas.definitions) shown as one row of inputs per
field, and a posted editor read back into a definition.

Lists (a choice's options, a rubric's criteria, a scale's anchor labels) are edited as text, one
`value = label` line each, so the editor needs no script to add or remove one.
"""

import json
from typing import Any

from django.http import QueryDict
from django.utils.text import slugify

from curation.schemas.definitions import FIELD_KINDS, PAIRWISE_OPTIONS, definition_errors

KIND_LABELS = {
    "ordinal_scale": "Scale",
    "single_choice": "One choice",
    "multiple_choice": "Several choices",
    "number": "Number",
    "free_text": "Text",
    "pairwise_choice": "A or B",
    "rubric": "Rubric criteria",
}
LEVEL_LABELS = {"": "As the kind suggests", "nominal": "Nominal", "ordinal": "Ordinal", "interval": "Interval"}
# Keys the editor's inputs stand for; any other key a field has is kept as it was (a hidden input carries it).
_EDITED = {
    "key",
    "label",
    "kind",
    "required",
    "level",
    "min",
    "max",
    "labels",
    "options",
    "criteria",
    "criteria_from",
    "max_length",
}
# Where a rubric field's criteria come from, as the editor offers it ("" = written in the form).
CRITERIA_SOURCES = [
    ("", "Written here, the same for every item"),
    ("prompt", "Each prompt's accepted physician rubric"),
]
_NEW_FIELD = {
    "ordinal_scale": {"min": 1, "max": 5, "required": True},
    "single_choice": {"options": [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}]},
    "multiple_choice": {"options": [{"value": "first", "label": "First"}, {"value": "second", "label": "Second"}]},
    "pairwise_choice": {"options": PAIRWISE_OPTIONS},
    "free_text": {"max_length": 4000},
    "number": {},
    "rubric": {"criteria": []},
}


def _pairs_text(pairs: list[dict], key: str) -> str:
    return "\n".join(f"{p.get(key, '')} = {p.get('label', '')}" for p in pairs if isinstance(p, dict))


def _anchors_text(field: dict) -> str:
    """Every point of the scale on its own line, so each can be given an anchor label; an anchor outside
    the scale (the range was just narrowed) keeps its line, so it is not lost while the range is edited."""
    labels = field.get("labels") if isinstance(field.get("labels"), dict) else {}
    low, high = field.get("min"), field.get("max")
    points = {int(p) for p in labels if isinstance(p, str) and p.lstrip("-").isdigit()}
    if isinstance(low, int) and isinstance(high, int) and high - low <= 100:
        points |= set(range(low, high + 1))
    return "\n".join(f"{n} = {labels.get(str(n), '')}".rstrip() for n in sorted(points))


def _row(index: int, field: dict) -> dict[str, Any]:
    kind = field.get("kind", "")
    return {
        "index": index,
        "key": field.get("key", ""),
        "label": field.get("label", ""),
        "kind": kind,
        "required": bool(field.get("required")),
        "level": field.get("level") or "",
        "min": "" if field.get("min") is None else field["min"],
        "max": "" if field.get("max") is None else field["max"],
        "max_length": field.get("max_length") or "",
        "anchors": _anchors_text(field) if kind == "ordinal_scale" else "",
        "options": _pairs_text(field.get("options") or [], "value"),
        "criteria": _pairs_text(field.get("criteria") or [], "key"),
        "criteria_from": field.get("criteria_from") or "",
        "extra": json.dumps({k: v for k, v in field.items() if k not in _EDITED}) if set(field) - _EDITED else "",
        "errors": [],
    }


def rows_of(definition: dict) -> list[dict[str, Any]]:
    return [_row(index, field) for index, field in enumerate(definition.get("fields", []))]


def new_field(kind: str, taken: set[str]) -> dict:
    """A field of `kind` with a key no other field has, ready to be edited."""
    number = len(taken) + 1
    while f"field_{number}" in taken:
        number += 1
    return {"key": f"field_{number}", "label": "", "kind": kind, **_NEW_FIELD.get(kind, {})}


def _pairs(text: str, key: str, what: str) -> tuple[list[dict], list[str]]:
    """`value = label` lines; a line without `=` is its own label, its value made from it."""
    pairs, errors = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        value, sep, label = (part.strip() for part in line.partition("="))
        if not sep:
            value, label = slugify(line).replace("-", "_"), line.strip()
        if not value:
            errors.append(f"{what}, line {number}: write `value = label` ({line.strip()!r} has no value)")
            continue
        pairs.append({key: value, "label": label or value})
    return pairs, errors


def _anchors(text: str) -> tuple[dict[str, str], list[str]]:
    labels, errors = {}, []
    for number, line in enumerate(text.splitlines(), start=1):
        point, sep, label = (part.strip() for part in line.partition("="))
        if not line.strip() or (sep and not label):
            continue  # a point left without an anchor
        if not sep or not point.lstrip("-").isdigit():
            errors.append(
                f"anchor labels, line {number}: write `point = label`, e.g. `1 = poor` (got {line.strip()!r})"
            )
            continue
        labels[str(int(point))] = label
    return labels, errors


def _number(raw: str, name: str, *, whole: bool) -> tuple[int | float | None, list[str]]:
    raw = raw.strip()
    if not raw:
        return None, []
    try:
        value = float(raw)
    except ValueError:
        return None, [f"{name}: {raw!r} is not a number"]
    if value.is_integer():
        return int(value), []
    return (None, [f"{name}: must be a whole number (got {raw})"]) if whole else (value, [])


def _field_of(data: QueryDict, index: int) -> tuple[dict, list[str]]:
    """One posted row as a field of the definition, with what could not be read from it."""

    def get(name: str) -> str:
        return (data.get(f"f-{index}-{name}") or "").replace("\r\n", "\n")

    errors: list[str] = []
    try:
        field = json.loads(get("extra") or "{}")
    except json.JSONDecodeError:
        field, errors = {}, ["the field's hidden settings could not be read; reload the editor"]
    kind = get("kind")
    field.update(key=get("key").strip(), label=get("label").strip(), kind=kind, required=bool(get("required")))
    if get("level"):
        field["level"] = get("level")
    if kind in ("ordinal_scale", "number"):
        for bound in ("min", "max"):
            value, problems = _number(get(bound), bound, whole=kind == "ordinal_scale")
            errors += problems
            if value is not None:
                field[bound] = value
    if kind == "ordinal_scale":
        labels, problems = _anchors(get("anchors"))
        errors += problems
        if labels:
            field["labels"] = labels
    elif kind in ("single_choice", "multiple_choice", "pairwise_choice"):
        field["options"], problems = _pairs(get("options"), "value", "options")
        errors += problems
    elif kind == "rubric" and get("criteria_from"):
        # The criteria come from each prompt's rubric; the form's own criteria box is hidden and not kept.
        field["criteria_from"] = get("criteria_from")
    elif kind == "rubric":
        field["criteria"], problems = _pairs(get("criteria"), "key", "criteria")
        errors += problems
    elif kind == "free_text":
        value, problems = _number(get("max_length"), "max length", whole=True)
        errors += problems
        if value:
            field["max_length"] = value
    return field, errors


def definition_from_post(data: QueryDict) -> tuple[dict, list[str], dict[int, list[str]]]:
    """The posted editor as a definition, the form's own problems, and each field's problems by index.

    Rows ticked for removal are left out; `move-N` (the button pressed) moves row N up one place.
    """
    try:
        count = min(int(data.get("field_count", "0")), 200)
    except ValueError:
        count = 0
    rows = [(index, *_field_of(data, index)) for index in range(count) if not data.get(f"f-{index}-remove")]
    action = data.get("action", "")
    if action.startswith("move-") and action[5:].isdigit():
        position = next((n for n, row in enumerate(rows) if row[0] == int(action[5:])), 0)
        if position > 0:
            rows[position - 1], rows[position] = rows[position], rows[position - 1]
    definition = {"fields": [field for _, field, _ in rows]}
    general, by_field = definition_errors(definition)
    for position, (_, _, problems) in enumerate(rows):
        if problems:
            by_field[position] = [*problems, *by_field.get(position, [])]
    return definition, general, by_field


def editor_rows(definition: dict, by_field: dict[int, list[str]]) -> list[dict[str, Any]]:
    rows = rows_of(definition)
    for row in rows:
        row["errors"] = by_field.get(row["index"], [])
    return rows


KINDS = [(kind, KIND_LABELS[kind]) for kind in FIELD_KINDS]
