"""HealthBench rows from a project's rubrics and grades, the inverse of curation.services.rubric_imports.

Clinicians who graded in Concord appear under a pseudonym (a keyed hash of project and user), never
by name or id; imported physicians keep the pseudonymous ids they came with. Judges never appear.

Nothing leaves unscanned for PHI, as in a release: a row is held back while its prompt (or, for a
label, its response) is not scanned as it is now or has an open finding. The turns of a conversation
other than the prompt's own text (earlier messages; a completion's other turns) are stored with the
rubric, not as texts of their own, so they are scanned here as the row is written, and a row in whose
turns the scanner finds anything is held back: no curator has seen those turns. `held` counts why.
"""

import hashlib
import hmac
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

from django.conf import settings

from curation.formats.writers.releases import user_prompt
from curation.models import Project, Prompt, RubricCriterion, RubricMark
from curation.selectors.phi import phi_prompt_gate, phi_release_gate
from curation.selectors.rubrics import rubrics_of

PROMPT_NOT_CLEARED = "its prompt is not scanned as it is now, or has an open PHI finding"
RESPONSE_NOT_CLEARED = "its response is not scanned as it is now, or it or its prompt has an open PHI finding"
TURNS_FLAGGED = "the scanner finds PHI in a turn of its conversation stored only with the rubric"


def _prompt_texts(prompt: Prompt) -> set[str]:
    """The texts of a prompt the scan of the prompt itself covers, as a conversation turn may hold them."""
    return {prompt.instruction.strip(), prompt.input.strip(), user_prompt(prompt.instruction, prompt.input).strip()}


def _other_turns_flagged(messages: list[dict], scanned: set[str]) -> bool:
    """Whether the scanner finds anything in the turns whose text is not one already scanned as an item's."""
    from curation.phi import phi_scan  # the scanner loads Presidio: only when rows are written

    for message in messages:
        text = message.get("content") if isinstance(message, dict) else None
        if isinstance(text, str) and text.strip() not in scanned and phi_scan(text):
            return True
    return False


def physician_pseudonym(*, project: Project, user_id: int) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"rubrics:{project.pk}:{user_id}".encode(), hashlib.sha256)
    return f"clinician-{digest.hexdigest()[:12]}"


def rubric_rows(*, project: Project, held: Counter | None = None) -> Iterator[dict[str, Any]]:
    held = Counter() if held is None else held
    rubrics = rubrics_of(project=project).order_by("id")
    cleared = rubrics.filter(*phi_prompt_gate("prompt_id"))
    held[PROMPT_NOT_CLEARED] += rubrics.count() - cleared.count()
    for rubric in cleared:
        if _other_turns_flagged(rubric.messages, _prompt_texts(rubric.prompt)):
            held[TURNS_FLAGGED] += 1
            continue
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


def meta_eval_rows(*, project: Project, held: Counter | None = None) -> Iterator[dict[str, Any]]:
    """One row per (response, criterion) that clinicians or physicians marked, in the order first marked;
    labels in the order they were given."""
    held = Counter() if held is None else held
    marks = RubricMark.objects.filter(grade__rubric_version__rubric__project=project, grade__judge__isnull=True)
    cleared = marks.filter(
        *phi_release_gate("response", outer="grade__response_id"),
        *phi_prompt_gate("grade__rubric_version__rubric__prompt_id"),
    )
    held_back = set(marks.values_list("grade__response_id", "criterion_id").distinct()) - set(
        cleared.values_list("grade__response_id", "criterion_id").distinct()
    )
    held[RESPONSE_NOT_CLEARED] += len(held_back)
    rows: dict[tuple[int, int], dict[str, Any]] = {}
    flagged: set[tuple[int, int]] = set()
    related = ("grade__response", "grade__rubric_version__rubric__prompt", "criterion")
    for mark in cleared.select_related(*related).order_by("id"):
        grade, criterion = mark.grade, mark.criterion
        rubric, response = grade.rubric_version.rubric, grade.response
        key = (response.pk, criterion.pk)
        if key in flagged:
            continue
        if key not in rows:
            row = _meta_eval_row(rubric, response, criterion)
            scanned = {*_prompt_texts(rubric.prompt), response.text.strip()}
            if _other_turns_flagged([*row["prompt"], *row["completion"]], scanned):
                held[TURNS_FLAGGED] += 1
                flagged.add(key)
                continue
            rows[key] = row
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
