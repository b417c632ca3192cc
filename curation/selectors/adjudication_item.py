"""The adjudication item page's views of an item: reviews side by side under neutral labels, each
field's values in the form's own words, text edits as side-by-side diffs, the soft label as rows.

Which items need a curator, and the item's reviews, are curation.selectors.adjudication.
"""

import string
from typing import Any

from curation.models import RatingSchema
from curation.schemas.definitions import field_options
from curation.selectors.adjudication import Disagreement
from curation.selectors.seed_tasks import seed_task_history
from curation.text.diffs import side_by_side_diff_html


def reviewer_label(index: int) -> str:
    letters = string.ascii_uppercase
    return f"Reviewer {letters[index % 26]}{index // 26 or ''}"


def value_labels(schema_field: dict) -> dict[str, str]:
    """What a choice, scale or rubric field calls each of its values, in the form's order."""
    kind = schema_field["kind"]
    if kind == "ordinal_scale":
        labels = schema_field.get("labels", {})
        return {
            str(v): f"{v} ({labels[str(v)]})" if str(v) in labels else str(v)
            for v in range(schema_field["min"], schema_field["max"] + 1)
        }
    if kind == "rubric":
        # A rubric graded on the prompt's own criteria has none in the form: its values show as criterion ids.
        return {c["key"]: c.get("label") or c["key"] for c in schema_field.get("criteria", [])}
    return {o["value"]: o.get("label") or o["value"] for o in field_options(schema_field)}


def display_value(schema_field: dict, value: Any) -> str:
    if value is None or value == "":
        return "-"
    labels = value_labels(schema_field) if schema_field["kind"] not in ("free_text", "number") else {}
    if isinstance(value, list):
        return ", ".join(labels.get(str(v), str(v)) for v in value) if value else "(none)"
    return labels.get(str(value), str(value))


def review_columns(*, disagreement: Disagreement, reveal: bool) -> list[dict]:
    columns = []
    for index, review in enumerate(disagreement.reviews):
        reviewer = review.reviewer
        columns.append(
            {
                "label": reviewer_label(index),
                "name": reviewer.get_full_name() if reveal else "",
                "specialty": reviewer.specialty if reveal else "",
                "review": review,
            }
        )
    return columns


def field_rows(*, disagreement: Disagreement) -> list[dict]:
    disputed = {f.key: f for f in disagreement.fields}
    rows = []
    for schema_field in disagreement.schema.fields:
        key = schema_field["key"]
        rows.append(
            {
                "key": key,
                "label": schema_field.get("label") or key,
                "cells": [display_value(schema_field, r.answers.get(key)) for r in disagreement.reviews],
                "disputed": key in disputed,
                "free_text": schema_field["kind"] == "free_text",
            }
        )
    return rows


def _diff(label: str, old: str, new: str, *, sides: tuple[str, str] = ("Before", "After")) -> dict:
    before, after = side_by_side_diff_html(old, new)
    return {"field": label, "sides": sides, "before": before, "after": after}


def text_edits(*, disagreement: Disagreement, reveal: bool) -> list[dict]:
    """Each reviewer's corrected response against the model's original; for a seed task, its edits."""
    labels = {}
    for index, review in enumerate(disagreement.reviews):
        labels[review.reviewer_id] = (
            f"{reviewer_label(index)} ({review.reviewer.get_full_name()})" if reveal else reviewer_label(index)
        )
    edits = []
    if disagreement.response is not None:
        original = disagreement.response.text
        for review in disagreement.reviews:
            if review.corrected_text and review.corrected_text != original:
                edits.append(
                    {
                        "who": labels[review.reviewer_id],
                        "what": "corrected response",
                        "diffs": [_diff("text", original, review.corrected_text, sides=("Original", "Correction"))],
                    }
                )
        return edits
    for revision in reversed(seed_task_history(task=disagreement.seed_task)):
        if revision["kind"] != "edited" or not revision["changes"]:
            continue
        user = revision["user"]
        who = labels.get(user.pk) if user is not None else None
        if who is None:
            who = user.get_full_name() if user is not None else "the system"
        diffs = [
            _diff(change["field"].replace("_", " "), str(change["old"] or ""), str(change["new"] or ""))
            for change in revision["changes"]
        ]
        edits.append(
            {"who": who, "what": f"edit to v{revision['version']}", "why": revision["rationale"], "diffs": diffs}
        )
    return edits


def soft_label_rows(*, schema: RatingSchema, soft_label: dict[str, dict]) -> list[dict]:
    """The soft label in the form's own order and words, each value with its count and share."""
    rows = []
    for schema_field in schema.fields:
        entry = soft_label.get(schema_field["key"])
        if entry is None:
            continue
        n = entry.get("n", 0)
        counts = entry.get("counts", {})
        if schema_field["kind"] == "number":
            ordered = sorted(counts, key=float)
            labels = {v: v for v in ordered}
        else:
            labels = value_labels(schema_field)
            ordered = list(labels) + [v for v in counts if v not in labels]
        values = [
            {
                "label": labels.get(v, v),
                "count": counts.get(v, 0),
                "percent": round(100 * counts.get(v, 0) / n) if n else 0,
            }
            for v in ordered
        ]
        rows.append(
            {
                "key": schema_field["key"],
                "label": schema_field.get("label") or schema_field["key"],
                "n": n,
                "values": values,
            }
        )
    return rows
