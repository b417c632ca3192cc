"""Rating forms in HTML: what a RatingSchema's fields look like on the page, and reading them back from a POST.

The schema, not a Django form class, is the source of truth: the same definition checks the answers
on the server (curation.schemas.definitions.clean_answers) whatever the client sent.
"""

from typing import Any

from django.http import QueryDict

from curation.schemas.definitions import field_options, is_prompt_rubric
from curation.selectors.rubrics import RubricToGrade

PREFIX = "a-"
# A prompt-rubric field posts one met ("1") / not met ("0") choice per criterion: `a-<key>.<criterion id>`.
MARK_SEPARATOR = "."


def _number(raw: str) -> int | float | str:
    try:
        value = float(raw)
    except ValueError:
        return raw  # clean_answers reports it as "must be a finite number"
    return int(value) if value.is_integer() and "." not in raw else value


def answers_from_post(definition: dict, data: QueryDict) -> dict[str, Any]:
    """The answers a posted form carries, typed by field kind; empty fields are left out."""
    answers: dict[str, Any] = {}
    for field in definition["fields"]:
        name, kind = PREFIX + field["key"], field["kind"]
        if is_prompt_rubric(field):
            marks = _marks_from_post(data, name + MARK_SEPARATOR)
            if marks:
                answers[field["key"]] = marks
            continue
        if kind in ("multiple_choice", "rubric"):
            values = [v for v in data.getlist(name) if v]
            if values:
                answers[field["key"]] = values
            continue
        raw = (data.get(name) or "").replace("\r\n", "\n")
        if kind != "free_text":
            raw = raw.strip()
        if raw == "":
            continue
        if kind == "ordinal_scale":
            answers[field["key"]] = int(raw) if raw.lstrip("-").isdigit() else raw
        elif kind == "number":
            answers[field["key"]] = _number(raw)
        else:
            answers[field["key"]] = raw
    return answers


def _marks_from_post(data: QueryDict, prefix: str) -> dict[str, bool]:
    """The criteria marked on the page, by criterion id; an unmarked one is left out for the check to name."""
    marks = {}
    for name in data:
        criterion = name[len(prefix) :] if name.startswith(prefix) else ""
        if criterion.isdigit() and data.get(name) in ("0", "1"):
            marks[criterion] = data.get(name) == "1"
    return marks


def _rubric_entry(value: Any, rubric: RubricToGrade | None, preview: bool) -> dict[str, Any]:
    """A prompt-rubric field's criteria with their marks: the grader's final grade when they gave one,
    else what the page holds (a draft, or the marks of a refused submit). Never anyone else's marks."""
    if rubric is None:
        note = (
            "Each response's criteria come from its prompt's accepted rubric when a clinician reviews it."
            if preview
            else "This response's prompt has no accepted rubric: there is nothing to grade here, and the field "
            "is not required."
        )
        return {"criteria": [], "note": note, "final": False}
    marks = {str(k): v for k, v in rubric.final.items()} if rubric.final is not None else {}
    if rubric.final is None and isinstance(value, dict):
        marks = {str(k): v for k, v in value.items() if isinstance(v, bool)}
    elif rubric.final is None and isinstance(value, list):  # a submitted review's criteria met
        marks = {str(c.pk): str(c.pk) in value for c in rubric.criteria}
    return {
        "criteria": [
            {"id": c.pk, "number": n, "text": c.text, "points": c.points, "mark": marks.get(str(c.pk))}
            for n, c in enumerate(rubric.criteria, start=1)
        ],
        "show_points": rubric.show_points,
        "final": rubric.final is not None,
        "note": "",
    }


def form_fields(
    definition: dict,
    values: dict[str, Any],
    errors: dict[str, list[str]] | None = None,
    *,
    rubric: RubricToGrade | None = None,
    preview: bool = False,
) -> list[dict]:
    """Everything a template needs to draw each field with its current value and its errors.

    `rubric` is what a prompt-rubric field grades for this item and grader (rubric_to_grade); `preview`
    says the form is drawn without an item (the form editor)."""
    errors = errors or {}
    fields = []
    for index, field in enumerate(definition["fields"]):
        key, kind = field["key"], field["kind"]
        value = values.get(key)
        entry = {
            "key": key,
            "name": PREFIX + key,
            "label": field.get("label") or key,
            "kind": kind,
            "required": bool(field.get("required")),
            "errors": errors.get(key, []),
            "index": index,
            "value": "" if value is None else value,
        }
        if kind in ("single_choice", "pairwise_choice", "multiple_choice"):
            chosen = value if isinstance(value, list) else [value]
            entry["choices"] = [
                {"value": o["value"], "label": o.get("label") or o["value"], "checked": o["value"] in chosen}
                for o in field_options(field)
            ]
        elif is_prompt_rubric(field):
            entry["rubric"] = _rubric_entry(value, rubric, preview)
            entry["required"] = entry["required"] and rubric is not None
        elif kind == "rubric":
            chosen = value if isinstance(value, list) else []
            entry["choices"] = [
                {"value": c["key"], "label": c.get("label") or c["key"], "checked": c["key"] in chosen}
                for c in field["criteria"]
            ]
        elif kind == "ordinal_scale":
            labels = field.get("labels", {})
            entry["choices"] = [
                {"value": str(n), "label": labels.get(str(n), ""), "checked": value == n or value == str(n)}
                for n in range(field["min"], field["max"] + 1)
            ]
        elif kind == "number":
            entry["min"], entry["max"] = field.get("min"), field.get("max")
        elif kind == "free_text":
            entry["max_length"] = field.get("max_length")
        entry["multiple"] = kind in ("multiple_choice", "rubric")
        fields.append(entry)
    return fields
