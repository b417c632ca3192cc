"""Imports of HealthBench files into a project: rubric rows become accepted rubrics of prompts, and
meta-eval rows become physicians' grades (by their pseudonymous ids) on those rubrics' criteria.

Meta-eval rows grade criteria of rubrics already in the project: import the rubric rows first (the
same file may hold both; rubric rows are imported before meta-eval rows).

A row's `prompt_id` names the project's prompt with that id, which must have the row's prompt as its
text (the last user message; a prompt's text is its instruction, then its input after a blank line): a
rubric is written for one text and must not be graded against another, so a row whose prompt differs is
refused, naming its line. A prompt_id the project lacks makes a new prompt. Every prompt and response
an import writes is scanned for PHI by a background run once the import commits, as imported items are.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import AuditAction, audit_record
from curation.formats.healthbench import MetaEvalLine, RubricLine, healthbench_read
from curation.formats.writers.releases import user_prompt
from curation.models import ModelResponse, Project, Prompt, Rubric, RubricGrade, RubricMark, RubricStatus
from curation.services.judges import judge_verdicts_import_text
from curation.services.phi import phi_scan_run_queue
from curation.services.rubrics import CriterionInput, RubricInput, rubric_create
from curation.stats.rubrics import RubricFormatError
from curation.text.hashing import content_hash

META_EVAL_MODEL = "meta-eval"
# How much of each text a refusal shows when a row's prompt differs from the project's.
TEXT_SHOWN = 60


@dataclass(frozen=True)
class RubricImportResult:
    rubrics: int
    labels: int
    new_texts: int = 0  # prompts and responses written, queued for the PHI scan


def _prompt_text(messages: Sequence[dict]) -> str:
    users = [m["content"] for m in messages if m["role"] == "user"]
    return users[-1] if users else messages[-1]["content"]


def _start(text: str) -> str:
    """The text's first TEXT_SHOWN characters or so, quoted, cut after a whole word."""
    if len(text) <= TEXT_SHOWN:
        return repr(text)
    cut = text[:TEXT_SHOWN]
    if not text[TEXT_SHOWN].isspace() and " " in cut[TEXT_SHOWN // 2 :]:
        cut = cut.rsplit(" ", 1)[0]  # its last word was cut in two
    return repr(cut.rstrip() + "…")


def _same_text_or_refuse(prompt: Prompt, line: RubricLine | MetaEvalLine, why: str) -> None:
    """Refuse a row whose prompt_id names `prompt` but whose prompt is another text; `why` ends the message."""
    ours = user_prompt(prompt.instruction, prompt.input).strip()
    theirs = _prompt_text(line.raw["prompt"]).strip()
    if ours != theirs:
        raise ValidationError(
            f"line {line.line}: prompt_id {line.raw['prompt_id']!r} names a prompt of this project whose text "
            f"differs from this row's prompt (project: {_start(ours)}; row: {_start(theirs)}); {why}"
        )


def _prompt_for(project: Project, line: RubricLine) -> tuple[Prompt, bool]:
    """The project's prompt the row names, checked by its text, or a new one; and whether it is new."""
    prompt = Prompt.objects.filter(project=project, external_id=line.raw["prompt_id"]).first()
    if prompt is not None:
        _same_text_or_refuse(prompt, line, "a rubric is graded against its own prompt: give the row its own prompt_id")
        return prompt, False
    text = _prompt_text(line.raw["prompt"])
    # Hashed as imports hash a prompt (instruction, input), so a test set imported later finds it the same.
    prompt = Prompt.objects.create(
        project=project, external_id=line.raw["prompt_id"], instruction=text, content_hash=content_hash(text, "")
    )
    return prompt, True


def _rubric_row_import(project: Project, line: RubricLine) -> tuple[Rubric, bool]:
    raw = line.raw
    prompt, new_prompt = _prompt_for(project, line)
    if Rubric.objects.filter(prompt=prompt).exists():
        raise ValidationError(f"line {line.line}: prompt {raw['prompt_id']!r} already has a rubric in this project")
    criteria = [
        CriterionInput(
            text=c.text,
            points=int(c.points),
            axis=c.axis,
            level=c.level,
            cluster=c.cluster or "",
            tags=c.tags,
        )
        for c in line.row.criteria
    ]
    extra = {k: v for k, v in raw.items() if k not in ("prompt", "prompt_id", "example_tags", "rubrics")}
    row = RubricInput(messages=raw["prompt"], example_tags=raw["example_tags"], extra=extra)
    rubric = rubric_create(prompt=prompt, author=None, criteria=criteria, row=row, status=RubricStatus.ACCEPTED)
    return rubric, new_prompt


def _rubric_for(project: Project, line: MetaEvalLine) -> Rubric:
    raw = line.raw
    rubrics = Rubric.objects.filter(project=project)
    if raw.get("prompt_id"):
        rubric = rubrics.filter(prompt__external_id=raw["prompt_id"]).select_related("prompt").first()
    else:
        rubric = next((r for r in rubrics if r.messages == raw["prompt"]), None)
    if rubric is None:
        raise ValidationError(
            f"line {line.line}: no rubric in this project for prompt {raw.get('prompt_id') or 'of this row'}; "
            "import its rubric row first"
        )
    if raw.get("prompt_id"):
        _same_text_or_refuse(
            rubric.prompt, line, "its labels were given against another prompt: check the row's prompt_id"
        )
    return rubric


def _response_for(rubric: Rubric, raw: dict) -> tuple[ModelResponse, bool]:
    """The row's completion as a response to the rubric's prompt (one per completion), and whether it is new."""
    completion = raw["completion"]
    text = completion if isinstance(completion, str) else completion[-1]["content"]
    key = raw.get("completion_id") or content_hash(json.dumps(completion, sort_keys=True))
    existing = ModelResponse.objects.filter(prompt=rubric.prompt, generation_params__meta_eval_id=key).first()
    if existing:
        return existing, False
    params = {"meta_eval_id": key, "completion_id": raw.get("completion_id"), "has_prompt_id": "prompt_id" in raw}
    response = ModelResponse.objects.create(
        prompt=rubric.prompt,
        model_name=META_EVAL_MODEL,
        text=text,
        raw_output=json.dumps(completion, ensure_ascii=False),
        generation_params=params,
        content_hash=content_hash(META_EVAL_MODEL, text),
    )
    return response, True


def _meta_eval_row_import(project: Project, line: MetaEvalLine) -> tuple[int, bool]:
    """The row's labels written, and whether its completion is a new response."""
    raw = line.raw
    rubric = _rubric_for(project, line)
    version = rubric.versions.get(number=rubric.version)
    criterion = version.criteria.filter(text=raw["rubric"]).first()
    if criterion is None:
        raise ValidationError(
            f"line {line.line}: rubric: {raw['rubric'][:80]!r} is not a criterion of the prompt's rubric"
        )
    if criterion.category != raw["category"]:
        criterion.category = raw["category"]
        criterion.save(update_fields=["category"])
    response, new_response = _response_for(rubric, raw)
    for physician, met in zip(line.row.physician_ids, line.row.binary_labels, strict=True):
        grade, _ = RubricGrade.objects.get_or_create(
            response=response,
            rubric_version=version,
            physician=physician,
            defaults={"submitted_at": timezone.now()},
        )
        if RubricMark.objects.filter(grade=grade, criterion=criterion).exists():
            raise ValidationError(
                f"line {line.line}: physician {physician!r} already labelled this criterion for this completion"
            )
        RubricMark.objects.create(grade=grade, criterion=criterion, met=met)
    return len(line.row.binary_labels), new_response


@transaction.atomic
def rubrics_import(
    *, project: Project, rubric_lines: Sequence[RubricLine], meta_lines: Sequence[MetaEvalLine]
) -> RubricImportResult:
    """All or nothing: a problem on any line names it and imports nothing. The prompts and responses it
    writes are scanned for PHI by a background run queued once it commits."""
    new_texts = labels = 0
    for line in rubric_lines:
        _, new_prompt = _rubric_row_import(project, line)
        new_texts += new_prompt
    for line in meta_lines:
        written, new_response = _meta_eval_row_import(project, line)
        labels += written
        new_texts += new_response
    if new_texts:
        # As after an import of items: queued once the texts are committed, never for an import rolled back.
        # The run reads the project's unscanned texts, these among them.
        transaction.on_commit(partial(phi_scan_run_queue, project_id=project.pk))
    # Written at once, not queued: one event says the import happened and what it brought.
    audit_record(
        action=AuditAction.IMPORT_FINISHED,
        target=project,
        project_id=project.pk,
        after={"status": "succeeded", "kind": "healthbench", "rubrics": len(rubric_lines), "labels": labels},
    )
    return RubricImportResult(rubrics=len(rubric_lines), labels=labels, new_texts=new_texts)


@dataclass(frozen=True)
class RubricFileImportResult:
    """What one uploaded file held: HealthBench rows or a judge's verdicts (rubric verdicts, pairwise votes)."""

    kind: str
    rubrics: int = 0
    labels: int = 0
    verdicts: int = 0


def rubric_file_kind(*, text: str, name: str) -> str:
    """`verdicts` for a CSV or for JSON Lines whose first object names a judge; `healthbench` otherwise."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    if name.lower().endswith(".csv") or not first.lstrip().startswith("{"):
        return "verdicts"
    try:
        data = json.loads(first)
    except json.JSONDecodeError:
        return "healthbench"  # its reader names the line that is not JSON
    return "verdicts" if isinstance(data, dict) and "judge" in data else "healthbench"


def rubric_file_import(*, project: Project, text: str, name: str) -> RubricFileImportResult:
    """One uploaded file, all or nothing, by its shape. A problem is a ValidationError naming its line."""
    if rubric_file_kind(text=text, name=name) == "verdicts":
        return RubricFileImportResult(
            kind="verdicts", verdicts=judge_verdicts_import_text(project=project, text=text, name=name)
        )
    try:
        rubric_lines, meta_lines = healthbench_read(text)
    except RubricFormatError as exc:
        raise ValidationError({"file": str(exc)}) from None
    result = rubrics_import(project=project, rubric_lines=rubric_lines, meta_lines=meta_lines)
    return RubricFileImportResult(kind="healthbench", rubrics=result.rubrics, labels=result.labels)
