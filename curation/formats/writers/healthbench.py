"""HealthBench rows from a project's rubrics and grades, the inverse of curation.services.rubric_imports.

Clinicians who graded in Concord appear under a pseudonym (a keyed hash of project and user), never
by name or id; imported physicians keep the pseudonymous ids they came with. Judges never appear.
"""

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

from django.conf import settings

from curation.models import Project, RubricCriterion, RubricMark
from curation.selectors.rubrics import rubrics_of


def physician_pseudonym(*, project: Project, user_id: int) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"rubrics:{project.pk}:{user_id}".encode(), hashlib.sha256)
    return f"clinician-{digest.hexdigest()[:12]}"


def rubric_rows(*, project: Project) -> Iterator[dict[str, Any]]:
    for rubric in rubrics_of(project=project).order_by("id"):
        criteria = RubricCriterion.objects.filter(version__rubric=rubric, version__number=rubric.version)
        yield {
            "prompt": rubric.messages,
            "prompt_id": rubric.prompt.external_id or str(rubric.prompt_id),
            "example_tags": rubric.example_tags,
            "rubrics": [{"criterion": c.text, "points": c.points, "tags": c.tags} for c in criteria.order_by("order")],
            **rubric.extra,
        }


def _category(criterion: RubricCriterion) -> str:
    return criterion.category or (f"cluster:{criterion.cluster}" if criterion.cluster else f"axis:{criterion.axis}")


def meta_eval_rows(*, project: Project) -> Iterator[dict[str, Any]]:
    """One row per (response, criterion) that clinicians or physicians marked, in the order first marked;
    labels in the order they were given."""
    marks = (
        RubricMark.objects.filter(grade__rubric_version__rubric__project=project, grade__judge__isnull=True)
        .select_related("grade__response", "grade__rubric_version__rubric__prompt", "criterion")
        .order_by("id")
    )
    rows: dict[tuple[int, int], dict[str, Any]] = {}
    for mark in marks:
        grade, criterion = mark.grade, mark.criterion
        rubric, response = grade.rubric_version.rubric, grade.response
        key = (response.pk, criterion.pk)
        if key not in rows:
            rows[key] = _meta_eval_row(rubric, response, criterion)
        ident = grade.physician or physician_pseudonym(project=project, user_id=grade.grader_id)
        rows[key]["binary_labels"].append(mark.met)
        rows[key]["anonymized_physician_ids"].append(ident)
    yield from rows.values()


def _meta_eval_row(rubric, response, criterion) -> dict[str, Any]:
    params = response.generation_params or {}
    if "meta_eval_id" in params:
        completion = json.loads(response.raw_output)
    else:
        completion = [{"role": "assistant", "content": response.text}]
    row = {
        "prompt": rubric.messages,
        "completion": completion,
        "rubric": criterion.text,
        "category": _category(criterion),
        "binary_labels": [],
        "anonymized_physician_ids": [],
        "prompt_id": rubric.prompt.external_id or str(rubric.prompt_id),
    }
    if "meta_eval_id" in params and not params.get("has_prompt_id", True):
        del row["prompt_id"]
    completion_id = params.get("completion_id") if "meta_eval_id" in params else str(response.pk)
    if completion_id is not None:
        row["completion_id"] = completion_id
    return row
