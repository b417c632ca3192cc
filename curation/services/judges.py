"""Writes of judges: a judge's verdicts become its grades, kept apart from clinicians' grades."""

from collections import defaultdict
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from curation.formats.judge_verdicts import Verdict, VerdictFormatError, verdict_parse, verdicts_read
from curation.models import ModelResponse, Project, Rubric, RubricCriterion, RubricGrade, RubricMark
from curation.services.rubrics import judge_ensure


def _criterion(rubric: Rubric, criteria: list[RubricCriterion], v: Verdict) -> RubricCriterion:
    if v.criterion_index is not None:
        if v.criterion_index >= len(criteria):
            raise ValidationError(
                f"line {v.line}: criterion_index {v.criterion_index} but prompt {v.prompt_id!r} has "
                f"{len(criteria)} criteria (counted from 0)"
            )
        return criteria[v.criterion_index]
    match = next((c for c in criteria if c.text == v.criterion), None)
    if match is None:
        raise ValidationError(f"line {v.line}: criterion {v.criterion[:80]!r} is not in the rubric of {v.prompt_id!r}")
    return match


def _response(rubric: Rubric, v: Verdict) -> ModelResponse:
    responses = ModelResponse.objects.filter(prompt=rubric.prompt)
    if v.response_id is not None:
        found = responses.filter(pk=v.response_id).first()
        if found is None:
            raise ValidationError(f"line {v.line}: response {v.response_id} does not answer prompt {v.prompt_id!r}")
        return found
    found = list(responses.filter(model_name=v.model)[:2])
    if len(found) != 1:
        problem = "no response" if not found else "more than one response; give response_id"
        raise ValidationError(f"line {v.line}: model {v.model!r} has {problem} to prompt {v.prompt_id!r}")
    return found[0]


@transaction.atomic
def judge_verdicts_import(*, project: Project, verdicts: Sequence[Verdict]) -> int:
    """All or nothing. Verdicts grade the current version of each prompt's rubric; a verdict given
    again for the same judge, response and criterion replaces the earlier one. Returns the count."""
    rubrics = {r.prompt.external_id: r for r in Rubric.objects.filter(project=project).select_related("prompt")}
    criteria_of: dict[int, list[RubricCriterion]] = defaultdict(list)
    for c in RubricCriterion.objects.filter(version__rubric__project=project).order_by("order"):
        criteria_of[c.version_id].append(c)
    for verdict in verdicts:
        rubric = rubrics.get(verdict.prompt_id)
        if rubric is None:
            raise ValidationError(f"line {verdict.line}: no rubric for prompt {verdict.prompt_id!r} in this project")
        version = rubric.versions.get(number=rubric.version)
        criteria = criteria_of[version.pk]
        criterion = _criterion(rubric, criteria, verdict)
        response = _response(rubric, verdict)
        judge = judge_ensure(project=project, name=verdict.judge, version=verdict.judge_version)
        grade, _ = RubricGrade.objects.get_or_create(
            response=response, rubric_version=version, judge=judge, defaults={"submitted_at": timezone.now()}
        )
        RubricMark.objects.update_or_create(grade=grade, criterion=criterion, defaults={"met": verdict.met})
    return len(verdicts)


def judge_verdicts_import_text(*, project: Project, text: str, name: str = "") -> int:
    """Verdicts from a JSONL or CSV file's text; a format problem is a ValidationError naming its line."""
    try:
        verdicts = verdicts_read(text, name=name)
    except VerdictFormatError as exc:
        raise ValidationError({"file": str(exc)}) from None
    return judge_verdicts_import(project=project, verdicts=verdicts)


def judge_verdicts_import_rows(*, project: Project, rows: Sequence[dict]) -> int:
    """Verdicts as objects (the API's body), numbered from 1 in messages."""
    try:
        verdicts = [verdict_parse(row, n) for n, row in enumerate(rows, start=1)]
    except VerdictFormatError as exc:
        raise ValidationError({"verdicts": str(exc).replace("line ", "verdict ", 1)}) from None
    return judge_verdicts_import(project=project, verdicts=verdicts)
