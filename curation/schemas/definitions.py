"""The language of rating forms: what a RatingSchema definition may say, and checking answers against it.

A definition is `{"fields": [field, ...]}`; each field is
`{"key", "label", "kind", "required", "level", ...}` with, by kind:

- single_choice / multiple_choice / pairwise_choice: "options": [{"value", "label"}, ...]
- ordinal_scale: "min", "max" (integers) and optional "labels": {"1": "poor", ...}, the anchor label of each
  point that has one (keys are the points as text, each from min to max)
- number: optional "min", "max"
- free_text: optional "max_length"
- rubric: "criteria": [{"key", "label"}, ...]; the answer is the list of criteria met. Or, with
  `"criteria_from": "prompt"` and no criteria of its own, the field grades the item's own physician
  rubric (curation.models.rubrics): its criteria are those of the response's prompt's accepted rubric
  at review time. The answer given is the marks, `{"<criterion id>": true | false, ...}` for every
  criterion; what a review keeps is, as for a written rubric, the list of criteria met (ids as text),
  and the marks are recorded as the grader's rubric grade (curation.services.rubrics.rubric_form_answers).
  A form has at most one such field; it is optional for a response whose prompt has no accepted rubric.

`level` (nominal / ordinal / interval) tells the agreement statistics how to compare two answers.
"""

import math
import re
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError

FIELD_KINDS = (
    "single_choice",
    "multiple_choice",
    "ordinal_scale",
    "number",
    "free_text",
    "pairwise_choice",
    "rubric",
)
LEVELS = ("nominal", "ordinal", "interval")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_DEFAULT_LEVEL = {
    "single_choice": "nominal",
    "multiple_choice": "nominal",
    "pairwise_choice": "nominal",
    "rubric": "nominal",
    "ordinal_scale": "ordinal",
    "number": "interval",
    "free_text": None,
}
# Where a rubric field's criteria come from: written in the form (the default) or the prompt's own rubric.
CRITERIA_FROM = ("prompt",)
PAIRWISE_OPTIONS = [
    {"value": "a", "label": "A is better"},
    {"value": "b", "label": "B is better"},
    {"value": "tie", "label": "Tie"},
    {"value": "both_bad", "label": "Both bad"},
]


def _field_errors(index: int, field: Any) -> list[str]:
    where = f"fields[{index}]"
    if not isinstance(field, dict):
        return [f"{where}: must be an object"]
    errors = []
    key = field.get("key")
    if not isinstance(key, str) or not _KEY.match(key):
        errors.append(f"{where}.key: must be lower_snake_case, starting with a letter (got {key!r})")
    where = f"field {key!r}" if isinstance(key, str) else where
    kind = field.get("kind")
    if kind not in FIELD_KINDS:
        return [*errors, f"{where}.kind: must be one of {', '.join(FIELD_KINDS)} (got {kind!r})"]
    if not isinstance(field.get("label", ""), str):
        errors.append(f"{where}.label: must be text")
    if not isinstance(field.get("required", False), bool):
        errors.append(f"{where}.required: must be true or false")
    level = field.get("level", _DEFAULT_LEVEL[kind])
    if kind == "free_text":
        if level is not None:
            errors.append(f"{where}.level: free text has no measurement level")
    elif level not in LEVELS:
        errors.append(f"{where}.level: must be one of {', '.join(LEVELS)} (got {level!r})")
    if kind in ("single_choice", "multiple_choice", "pairwise_choice"):
        options = field.get("options", PAIRWISE_OPTIONS if kind == "pairwise_choice" else None)
        if not isinstance(options, list) or len(options) < 2:
            errors.append(f"{where}.options: a choice needs at least two options")
        else:
            values = [o.get("value") if isinstance(o, dict) else None for o in options]
            if any(not isinstance(v, str) or not v for v in values):
                errors.append(f"{where}.options: every option needs a non-empty text value")
            elif len(set(values)) != len(values):
                errors.append(f"{where}.options: option values must be unique")
    elif kind == "ordinal_scale":
        low, high = field.get("min"), field.get("max")
        if not (isinstance(low, int) and isinstance(high, int)) or isinstance(low, bool) or low >= high:
            errors.append(f"{where}: a scale needs integer min < max (got min={low!r}, max={high!r})")
        else:
            errors.extend(_anchor_errors(where, field.get("labels", {}), low, high))
    elif kind == "number":
        low, high = field.get("min"), field.get("max")
        for bound, name in ((low, "min"), (high, "max")):
            if bound is not None and (not isinstance(bound, int | float) or isinstance(bound, bool)):
                errors.append(f"{where}.{name}: must be a number")
        if isinstance(low, int | float) and isinstance(high, int | float) and low >= high:
            errors.append(f"{where}: min must be below max")
    elif kind == "rubric" and "criteria_from" in field:
        if field["criteria_from"] not in CRITERIA_FROM:
            errors.append(
                f"{where}.criteria_from: must be {' or '.join(repr(c) for c in CRITERIA_FROM)} "
                f"(got {field['criteria_from']!r}); leave it out to write the criteria in the form"
            )
        elif field.get("criteria"):
            errors.append(f"{where}.criteria: a rubric graded on each prompt's own rubric lists no criteria here")
    elif kind == "rubric":
        criteria = field.get("criteria")
        if not isinstance(criteria, list) or not criteria:
            errors.append(f"{where}.criteria: a rubric needs at least one criterion")
        else:
            keys = [c.get("key") if isinstance(c, dict) else None for c in criteria]
            if any(not isinstance(k, str) or not _KEY.match(k) for k in keys):
                errors.append(f"{where}.criteria: every criterion needs a lower_snake_case key")
            elif len(set(keys)) != len(keys):
                errors.append(f"{where}.criteria: criterion keys must be unique")
    return errors


def _anchor_errors(where: str, labels: Any, low: int, high: int) -> list[str]:
    if not isinstance(labels, dict):
        return [f"{where}.labels: must map scale points to their anchor labels"]
    errors = []
    for point, label in labels.items():
        if not (isinstance(point, str) and point.lstrip("-").isdigit() and low <= int(point) <= high):
            errors.append(f"{where}.labels: {point!r} is not a point of the scale {low} to {high}")
        elif not isinstance(label, str) or not label.strip():
            errors.append(f"{where}.labels: the anchor of {point} must be non-empty text")
    return errors


def definition_errors(definition: Any) -> tuple[list[str], dict[int, list[str]]]:
    """What is wrong with a definition: problems of the whole form, and each field's own by its index
    (so an editor can show them beside the field). Both empty when the definition is valid."""
    if not isinstance(definition, dict):
        return ["A schema definition must be an object with a 'fields' list."], {}
    fields = definition.get("fields")
    if not isinstance(fields, list) or not fields:
        return ["A schema definition needs a non-empty 'fields' list."], {}
    by_field = {index: found for index, field in enumerate(fields) if (found := _field_errors(index, field))}
    keys = [f.get("key") for f in fields if isinstance(f, dict)]
    duplicates = sorted({k for k in keys if isinstance(k, str) and keys.count(k) > 1})
    general = [f"field keys must be unique: {', '.join(duplicates)} repeated"] if duplicates else []
    graded = [f.get("key") for f in fields if isinstance(f, dict) and f.get("criteria_from") == "prompt"]
    if len(graded) > 1:
        # A grader has one grade per response and rubric version, so a second field would grade it again.
        general.append(f"only one field may grade the prompt's rubric ({', '.join(map(repr, graded))} both do)")
    return general, by_field


def validate_schema_definition(definition: Any) -> None:
    general, by_field = definition_errors(definition)
    errors = [*general, *(problem for index in sorted(by_field) for problem in by_field[index])]
    if errors:
        raise ValidationError(errors)


def field_level(field: dict) -> str | None:
    return field.get("level", _DEFAULT_LEVEL[field["kind"]])


def is_prompt_rubric(field: dict) -> bool:
    """Whether the field grades the item's own physician rubric rather than criteria written in the form."""
    return field.get("kind") == "rubric" and field.get("criteria_from") == "prompt"


def prompt_rubric_field(definition: dict) -> dict | None:
    """The form's field that grades the prompt's rubric, if it has one (it has at most one)."""
    return next((f for f in definition["fields"] if is_prompt_rubric(f)), None)


def field_options(field: dict) -> list[dict]:
    if field["kind"] == "pairwise_choice":
        return field.get("options", PAIRWISE_OPTIONS)
    return field.get("options", [])


def _marks_error(value: Any, criteria: Sequence[int]) -> str | None:
    """What is wrong with marks given against the prompt's rubric (criterion ids in the rubric's order)."""
    if not isinstance(value, dict) or not all(isinstance(met, bool) for met in value.values()):
        return "must mark each criterion of the prompt's rubric met (true) or not met (false), by criterion id"
    given = {str(k) for k in value}
    unknown = sorted(given - {str(c) for c in criteria})
    if unknown:
        return (
            f"must mark only criteria of the prompt's accepted rubric ({', '.join(unknown)} are not); "
            "it may have changed since the page was opened: reload it"
        )
    missing = [str(position) for position, c in enumerate(criteria, start=1) if str(c) not in given]
    if missing:
        return f"must mark every criterion met or not met; criteria {', '.join(missing)} have no mark"
    return None


def _answer_error(field: dict, value: Any) -> str | None:
    kind = field["kind"]
    if kind in ("single_choice", "pairwise_choice"):
        allowed = [o["value"] for o in field_options(field)]
        return None if value in allowed else f"must be one of {', '.join(allowed)}"
    if kind == "multiple_choice":
        allowed = {o["value"] for o in field_options(field)}
        if not isinstance(value, list) or not all(v in allowed for v in value):
            return f"must be a list of {', '.join(sorted(allowed))}"
        return None
    if kind == "ordinal_scale":
        if isinstance(value, bool) or not isinstance(value, int) or not field["min"] <= value <= field["max"]:
            return f"must be a whole number from {field['min']} to {field['max']}"
        return None
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return "must be a finite number"
        if field.get("min") is not None and value < field["min"]:
            return f"must be at least {field['min']}"
        if field.get("max") is not None and value > field["max"]:
            return f"must be at most {field['max']}"
        return None
    if kind == "free_text":
        if not isinstance(value, str):
            return "must be text"
        if field.get("max_length") and len(value) > field["max_length"]:
            return f"must be at most {field['max_length']} characters"
        return None
    if kind == "rubric":
        allowed = {c["key"] for c in field["criteria"]}
        if not isinstance(value, list) or not all(v in allowed for v in value):
            return f"must be a list of criteria among {', '.join(sorted(allowed))}"
        return None
    return "has an unknown kind"


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def free_text_keys(definition: dict) -> list[str]:
    """The keys of a form's free-text fields: what a reviewer writes in their own words."""
    return [f["key"] for f in definition.get("fields", []) if f.get("kind") == "free_text"]


def clean_answers(definition: dict, answers: Any, *, prompt_criteria: Sequence[int] | None = None) -> dict[str, Any]:
    """Answers checked against the definition: unknown keys and missing required fields are errors.

    `prompt_criteria` are the criterion ids, in order, of the accepted rubric of the item's prompt, which
    a prompt-rubric field grades; None when the item has none, and then that field is optional and must
    stay empty. Returns the answers with empty optional fields dropped (a prompt-rubric field's marks
    keyed by criterion id as text, in the rubric's order); raises ValidationError keyed by field.
    """
    if not isinstance(answers, dict):
        raise ValidationError("Answers must be an object keyed by field.")
    fields = {f["key"]: f for f in definition["fields"]}
    errors: dict[str, str] = {}
    for key in answers:
        if key not in fields:
            errors[key] = "is not a field of this form"
    cleaned = {}
    for key, field in fields.items():
        value = answers.get(key)
        graded = is_prompt_rubric(field)
        if _is_empty(value) or (graded and value == {}):
            if field.get("required") and not (graded and prompt_criteria is None):
                errors[key] = "is required"
            continue
        if graded:
            if prompt_criteria is None:
                errors[key] = "has nothing to grade: this response's prompt has no accepted rubric"
            elif problem := _marks_error(value, prompt_criteria):
                errors[key] = problem
            else:
                cleaned[key] = {str(c): value.get(str(c), value.get(c)) for c in prompt_criteria}
            continue
        problem = _answer_error(field, value)
        if problem:
            errors[key] = problem
        else:
            cleaned[key] = value
    if errors:
        raise ValidationError(errors)
    return cleaned
