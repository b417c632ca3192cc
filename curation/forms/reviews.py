"""Rating forms in HTML: what a RatingSchema's fields look like on the page, and reading them back from a POST.

The schema, not a Django form class, is the source of truth: the same definition checks the answers
on the server (curation.schemas.definitions.clean_answers) whatever the client sent.
"""

from typing import Any

from django.http import QueryDict

from curation.schemas.definitions import field_options

PREFIX = "a-"


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


def form_fields(definition: dict, values: dict[str, Any], errors: dict[str, list[str]] | None = None) -> list[dict]:
    """Everything a template needs to draw each field with its current value and its errors."""
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
