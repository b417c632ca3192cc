"""Writes of judges: a judge's rubric verdicts become its grades and its pairwise verdicts its votes,
both kept apart from clinicians' grades and round judgments."""

from collections import defaultdict
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import AuditAction, audit_record
from curation.formats.judge_verdicts import (
    PairVerdict,
    Verdict,
    VerdictFormatError,
    any_verdict_parse,
    verdicts_read,
)
from curation.models import ModelResponse, Project, Prompt, RoundItem, Rubric, RubricCriterion, RubricGrade, RubricMark
from curation.models.rubrics import JudgeVote
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


def _response(prompt: Prompt, response_id: int | None, model: str, line: int, label: str) -> ModelResponse:
    """The answer to `prompt` named by id, or by model when that model gave exactly one."""
    responses = ModelResponse.objects.filter(prompt=prompt)
    if response_id is not None:
        found = responses.filter(pk=response_id).first()
        if found is None:
            raise ValidationError(f"line {line}: response {response_id} does not answer prompt {label!r}")
        return found
    found = list(responses.filter(model_name=model)[:2])
    if len(found) != 1:
        problem = "no response" if not found else "more than one response; give its response id"
        raise ValidationError(f"line {line}: model {model!r} has {problem} to prompt {label!r}")
    return found[0]


def _vote_prompt(project: Project, v: PairVerdict) -> tuple[Prompt, RoundItem | None]:
    if v.item_id is not None:
        item = RoundItem.objects.filter(round__project=project, pk=v.item_id).select_related("prompt").first()
        if item is None or item.response_b_id is None:
            raise ValidationError(f"line {v.line}: no pairwise round item {v.item_id} in this project")
        return item.prompt, item
    prompt = Prompt.objects.filter(project=project, external_id=v.prompt_id).first()
    if prompt is None:
        raise ValidationError(f"line {v.line}: no prompt {v.prompt_id!r} in this project")
    return prompt, None


def _vote_write(project: Project, v: PairVerdict) -> None:
    prompt, item = _vote_prompt(project, v)
    label = prompt.external_id or str(prompt.pk)
    first = _response(prompt, v.first_id, v.first_model, v.line, label)
    second = _response(prompt, v.second_id, v.second_model, v.line, label)
    if first.pk == second.pk:
        raise ValidationError(f"line {v.line}: answers a and b are the same response {first.pk}")
    if item is not None and {first.pk, second.pk} != {item.response_a_id, item.response_b_id}:
        raise ValidationError(f"line {v.line}: round item {item.pk} compares other answers")
    judge = judge_ensure(project=project, name=v.judge, version=v.judge_version)
    JudgeVote.objects.update_or_create(
        judge=judge, first=first, second=second, defaults={"prompt": prompt, "verdict": v.verdict}
    )


def _grade_write(project: Project, rubrics: dict, criteria_of: dict, verdict: Verdict) -> None:
    rubric = rubrics.get(verdict.prompt_id)
    if rubric is None:
        raise ValidationError(f"line {verdict.line}: no rubric for prompt {verdict.prompt_id!r} in this project")
    version = rubric.versions.get(number=rubric.version)
    criterion = _criterion(rubric, criteria_of[version.pk], verdict)
    response = _response(rubric.prompt, verdict.response_id, verdict.model, verdict.line, verdict.prompt_id)
    judge = judge_ensure(project=project, name=verdict.judge, version=verdict.judge_version)
    grade, _ = RubricGrade.objects.get_or_create(
        response=response, rubric_version=version, judge=judge, defaults={"submitted_at": timezone.now()}
    )
    RubricMark.objects.update_or_create(grade=grade, criterion=criterion, defaults={"met": verdict.met})


@transaction.atomic
def judge_verdicts_import(*, project: Project, verdicts: Sequence[Verdict | PairVerdict]) -> int:
    """All or nothing. Rubric verdicts grade the current version of each prompt's rubric; pairwise
    verdicts become the judge's votes on the pair in the order shown. A verdict given again (same judge,
    response and criterion; same judge and pair in the same order) replaces the earlier one. Returns
    the count."""
    rubrics = {r.prompt.external_id: r for r in Rubric.objects.filter(project=project).select_related("prompt")}
    criteria_of: dict[int, list[RubricCriterion]] = defaultdict(list)
    for c in RubricCriterion.objects.filter(version__rubric__project=project).order_by("order"):
        criteria_of[c.version_id].append(c)
    for verdict in verdicts:
        if isinstance(verdict, PairVerdict):
            _vote_write(project, verdict)
        else:
            _grade_write(project, rubrics, criteria_of, verdict)
    # Written at once, not queued: one event says the import happened and what it brought.
    votes = sum(isinstance(verdict, PairVerdict) for verdict in verdicts)
    audit_record(
        action=AuditAction.IMPORT_FINISHED,
        target=project,
        project_id=project.pk,
        after={"status": "succeeded", "kind": "judge verdicts", "verdicts": len(verdicts) - votes, "votes": votes},
    )
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
        verdicts = [v for n, row in enumerate(rows, start=1) for v in any_verdict_parse(row, n)]
    except VerdictFormatError as exc:
        raise ValidationError({"verdicts": str(exc).replace("line ", "verdict ", 1)}) from None
    return judge_verdicts_import(project=project, verdicts=verdicts)
