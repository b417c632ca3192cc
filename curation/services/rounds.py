"""Human-evaluation rounds: setup, freezing and scheduling, closing, and judging.

The reads (progress, the next slot, votes, results and majorities) are in curation.selectors.rounds.
"""

import random
from collections import Counter
from collections.abc import Iterable
from itertools import combinations
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.models import User
from audit.services import AuditAction, audit_record, texts_digested
from curation.models import (
    EvaluationRound,
    Judgment,
    Project,
    Prompt,
    RatingSchema,
    RoundItem,
    RoundMode,
    RoundPairing,
    RoundPrompt,
    RoundQuestion,
    RoundSlot,
    RoundStatus,
    RubricStatus,
    SchemaTarget,
)
from curation.schemas.defaults import PAIRWISE_JUDGMENT, RUBRIC_GRADING
from curation.schemas.definitions import free_text_keys
from curation.selectors.rounds import model_responses_of
from curation.services.reviews import AnswersInvalid
from curation.services.rubrics import rubric_form_answers

PAIRWISE_SCHEMA_NAME = "Pairwise judgment"
RUBRIC_SCHEMA_NAME = "Rubric grading"
# How many prompts an error names before it says how many more there are.
NAMED_PROMPTS = 10


def pairwise_schema_for(*, project: Project) -> RatingSchema:
    """The project's pairwise form, created with the default axes the first time a round needs it."""
    schema = (
        RatingSchema.objects.filter(project=project, target=SchemaTarget.PAIRWISE).order_by("-version", "-id").first()
    )
    if schema is None:
        schema = RatingSchema(
            project=project, name=PAIRWISE_SCHEMA_NAME, target=SchemaTarget.PAIRWISE, definition=PAIRWISE_JUDGMENT
        )
        schema.full_clean()
        schema.save()
    return schema


def rubric_schema_for(*, project: Project) -> RatingSchema:
    """The project's rubric-grading form (one field grading the prompt's rubric, and a rationale), created
    the first time a round asks that question."""
    schema = (
        RatingSchema.objects.filter(project=project, name=RUBRIC_SCHEMA_NAME, target=SchemaTarget.RESPONSE)
        .order_by("-version", "-id")
        .first()
    )
    if schema is None:
        schema = RatingSchema(
            project=project, name=RUBRIC_SCHEMA_NAME, target=SchemaTarget.RESPONSE, definition=RUBRIC_GRADING
        )
        schema.full_clean()
        schema.save()
    return schema


def _prompt_names(prompts: Iterable[Prompt]) -> str:
    """Prompts as a curator finds them: their external id (or #id), the first NAMED_PROMPTS of them."""
    names = [p.external_id or f"#{p.pk}" for p in prompts]
    more = f" and {len(names) - NAMED_PROMPTS} more" if len(names) > NAMED_PROMPTS else ""
    return ", ".join(names[:NAMED_PROMPTS]) + more


def _prompts_without_accepted_rubric(prompt_ids: Iterable[int]) -> list[Prompt]:
    return list(
        Prompt.objects.filter(pk__in=list(prompt_ids))
        .exclude(rubric__status=RubricStatus.ACCEPTED)
        .only("pk", "external_id")
        .order_by("pk")
    )


# ------------------------------------------------------------------------------------------------
# Setup
# ------------------------------------------------------------------------------------------------


def _normalise_models(models: Iterable[dict | str]) -> list[dict[str, str]]:
    specs = []
    for model in models:
        if isinstance(model, str):
            model = {"name": model, "version": ""}
        name = str(model.get("name", "")).strip()
        version = str(model.get("version", "") or "").strip()
        if not name:
            raise ValidationError({"models": "Every model needs a name."})
        specs.append({"name": name, "version": version})
    names = [m["name"] for m in specs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValidationError({"models": f"A model may appear only once: {', '.join(repeated)} repeated."})
    return specs


def _definition_errors(
    *,
    project: Project,
    name: str,
    mode: str,
    question: str,
    pairing: str,
    specs: list[dict[str, str]],
    reference_model: str,
    reviewers: list[User],
    judgments_per_item: int,
    sample_size: int | None,
) -> dict[str, str]:
    """Every field of a round definition that cannot be used, with what is wrong with it."""
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "A round needs a name."
    elif EvaluationRound.objects.filter(project=project, name=name).exists():
        errors["name"] = f"This project already has a round named {name!r}."
    if mode not in RoundMode.values:
        errors["mode"] = f"Mode must be one of {', '.join(RoundMode.values)}."
    if question not in RoundQuestion.values:
        errors["question"] = f"The question must be one of {', '.join(RoundQuestion.values)} (got {question!r})."
    elif question == RoundQuestion.RUBRIC and mode == RoundMode.PAIRWISE:
        errors["question"] = (
            "Rubric grading rates one response at a time against its prompt's rubric: choose the absolute mode."
        )
    if pairing not in RoundPairing.values:
        errors["pairing"] = f"Pairing must be one of {', '.join(RoundPairing.values)}."
    minimum = 2 if mode == RoundMode.PAIRWISE else 1
    if len(specs) < minimum:
        errors["models"] = f"A {mode} round compares at least {minimum} model{'s' if minimum > 1 else ''}."
    if reference_model and reference_model not in [m["name"] for m in specs]:
        errors["reference_model"] = "The reference model must be one of the models compared."
    if pairing == RoundPairing.VS_REFERENCE and mode == RoundMode.PAIRWISE and not reference_model:
        errors["reference_model"] = "Pairing each model against the reference needs a reference model."
    outside = [r.email for r in reviewers if not (r.is_curator or project.memberships.filter(user=r).exists())]
    if outside:
        errors["reviewers"] = f"Reviewers must be members of the project: {', '.join(outside)}."
    if not isinstance(judgments_per_item, int) or judgments_per_item < 1:
        errors["judgments_per_item"] = "Judgments per item must be at least 1."
    elif judgments_per_item > len(reviewers):
        errors["judgments_per_item"] = (
            f"{judgments_per_item} judgments per item need at least {judgments_per_item} reviewers "
            f"(no reviewer judges an item twice); {len(reviewers)} chosen."
        )
    if sample_size is not None and sample_size < 1:
        errors["sample_size"] = "The sample size must be at least 1."
    return errors


def _round_prompt_ids(
    *,
    project: Project,
    specs: list[dict[str, str]],
    prompt_ids: Iterable[int] | None,
    sample_size: int | None,
    seed: int,
    question: str = RoundQuestion.FORM,
) -> list[int]:
    """Prompt ids of the project (restricted to `prompt_ids` if given) that every model answered,
    optionally a seeded sample of `sample_size` of them. For rubric grading, only prompts with an accepted
    rubric: chosen prompts without one are refused by name; otherwise the prompts without one are left out."""
    for spec in specs:
        if not model_responses_of(prompts=Prompt.objects.filter(project=project), spec=spec).exists():
            label = spec["name"] + (f" {spec['version']}" if spec["version"] else "")
            raise ValidationError({"models": f"No response from {label} to a prompt of this project."})
    prompts = Prompt.objects.filter(project=project)
    if prompt_ids is not None:
        prompts = prompts.filter(pk__in=list(prompt_ids))
    ids = set(prompts.values_list("pk", flat=True))
    for spec in specs:
        ids &= set(model_responses_of(prompts=prompts, spec=spec).values_list("prompt_id", flat=True))
    eligible = sorted(ids)
    if not eligible:
        raise ValidationError({"prompts": "No prompt has a response from every chosen model."})
    if question == RoundQuestion.RUBRIC:
        eligible = _prompts_with_accepted_rubric(eligible, chosen=prompt_ids is not None)
    if sample_size is not None and sample_size < len(eligible):
        eligible = sorted(random.Random(seed).sample(eligible, sample_size))
    return eligible


def _prompts_with_accepted_rubric(prompt_ids: list[int], *, chosen: bool) -> list[int]:
    """`prompt_ids` less those without an accepted rubric; when the curator chose the prompts, any without
    one is an error that names them."""
    missing = _prompts_without_accepted_rubric(prompt_ids)
    if missing and chosen:
        raise ValidationError(
            {
                "prompts": f"{len(missing)} of the chosen prompts have no accepted rubric to grade against: "
                f"{_prompt_names(missing)}. Have their rubrics written and accepted, or leave them out."
            }
        )
    kept = sorted(set(prompt_ids) - {p.pk for p in missing})
    if not kept:
        raise ValidationError(
            {
                "prompts": "No prompt that every chosen model answered has an accepted rubric "
                f"({_prompt_names(missing)} have none). Have rubrics written and accepted first."
            }
        )
    return kept


def _round_schema(*, project: Project, mode: str, question: str = RoundQuestion.FORM) -> RatingSchema:
    if mode == RoundMode.PAIRWISE:
        return pairwise_schema_for(project=project)
    if question == RoundQuestion.RUBRIC:
        return rubric_schema_for(project=project)
    if project.response_schema is None:
        raise ValidationError({"mode": "The project has no response form to rate responses with."})
    return project.response_schema


@transaction.atomic
def round_create(
    *,
    project: Project,
    created_by: User,
    name: str,
    mode: str,
    models: Iterable[dict | str],
    reviewers: Iterable[User],
    question: str = RoundQuestion.FORM,
    judgments_per_item: int = 2,
    reference_model: str = "",
    pairing: str = RoundPairing.ALL_PAIRS,
    prompt_ids: Iterable[int] | None = None,
    sample_size: int | None = None,
    seed: int = 0,
) -> EvaluationRound:
    """A draft round over the project's prompts that every chosen model answered (or `prompt_ids`),
    optionally a seeded sample of `sample_size` of them; its `question` is the project's rating form or
    (absolute mode) each prompt's physician rubric. Raises ValidationError and creates nothing
    when the definition is not usable. (Long only for its keyword arguments: the steps are
    `_definition_errors`, `_round_prompt_ids` and `_round_schema`.)"""
    name = (name or "").strip()
    reference_model = (reference_model or "").strip()
    reviewers = list(reviewers)
    specs = _normalise_models(models)
    errors = _definition_errors(
        project=project,
        name=name,
        mode=mode,
        question=question,
        pairing=pairing,
        specs=specs,
        reference_model=reference_model,
        reviewers=reviewers,
        judgments_per_item=judgments_per_item,
        sample_size=sample_size,
    )
    if errors:
        raise ValidationError(errors)
    eligible = _round_prompt_ids(
        project=project, specs=specs, prompt_ids=prompt_ids, sample_size=sample_size, seed=seed, question=question
    )
    evaluation_round = EvaluationRound(
        project=project,
        name=name,
        mode=mode,
        pairing=pairing if mode == RoundMode.PAIRWISE else RoundPairing.ALL_PAIRS,
        schema=_round_schema(project=project, mode=mode, question=question),
        compared_models=specs,
        reference_model=reference_model,
        judgments_per_item=judgments_per_item,
        seed=seed,
        created_by=created_by,
    )
    evaluation_round.full_clean()
    evaluation_round.save()
    evaluation_round.reviewers.set(reviewers)
    RoundPrompt.objects.bulk_create(RoundPrompt(round=evaluation_round, prompt_id=pk) for pk in eligible)
    return evaluation_round


def round_create_by_names(
    *,
    project: Project,
    created_by: User,
    reviewer_emails: Iterable[str],
    prompts: Iterable[str] | None = None,
    **definition: Any,
) -> EvaluationRound:
    """`round_create` as a script calls it (API, CLI): reviewers by email and prompts by their external id
    (or their number); anything not found is refused by name, before the round's own checks."""
    wanted = {email.strip().lower() for email in reviewer_emails if email.strip()}
    reviewers = list(User.objects.filter(email__in=wanted, is_active=True))
    if missing := wanted - {r.email.lower() for r in reviewers}:
        raise ValidationError({"reviewers": f"No active account with the email: {', '.join(sorted(missing))}."})
    prompt_ids = None
    if prompts is not None:
        keys = [str(key).strip() for key in prompts if str(key).strip()]
        found = Prompt.objects.filter(project=project).filter(
            Q(external_id__in=keys) | Q(external_id="", pk__in=[int(k) for k in keys if k.isdigit()])
        )
        by_key = {p.external_id or str(p.pk): p.pk for p in found.only("pk", "external_id")}
        if unknown := [key for key in keys if key not in by_key]:
            raise ValidationError({"prompts": f"No prompt of this project is called {', '.join(unknown)}."})
        prompt_ids = [by_key[key] for key in keys]
    return round_create(
        project=project, created_by=created_by, reviewers=reviewers, prompt_ids=prompt_ids, **definition
    )


# ------------------------------------------------------------------------------------------------
# Freezing and scheduling
# ------------------------------------------------------------------------------------------------


def _require_draft(evaluation_round: EvaluationRound) -> None:
    if evaluation_round.status != RoundStatus.DRAFT:
        raise ValidationError(
            f"The round {evaluation_round.name!r} is {evaluation_round.get_status_display().lower()}: "
            "its definition can no longer change. Set up a new round instead."
        )


def _model_pairs(evaluation_round: EvaluationRound) -> list[tuple[str, str]]:
    names = evaluation_round.model_names
    if evaluation_round.pairing == RoundPairing.VS_REFERENCE:
        reference = evaluation_round.reference_model
        return [(reference, name) for name in names if name != reference]
    return list(combinations(names, 2))


def _latest_responses(evaluation_round: EvaluationRound, prompt_ids: list[int]) -> dict[tuple[int, str], int]:
    """(prompt id, model name) -> response id; when a model answered a prompt twice, its latest answer.
    Raises ValidationError when an answer the round was set up with is gone."""
    chosen: dict[tuple[int, str], int] = {}
    for spec in evaluation_round.compared_models:
        rows = model_responses_of(prompts=prompt_ids, spec=spec).values("prompt_id").annotate(latest=Max("pk"))
        for row in rows:
            chosen[(row["prompt_id"], spec["name"])] = row["latest"]
    missing = [(p, name) for p in prompt_ids for name in evaluation_round.model_names if (p, name) not in chosen]
    if missing:
        prompt_id, name = missing[0]
        raise ValidationError(
            f"{len(missing)} answer(s) the round was set up with are gone (e.g. {name} on prompt {prompt_id}); "
            "set up a new round."
        )
    return chosen


def _round_items(
    evaluation_round: EvaluationRound, prompt_ids: list[int], responses: dict[tuple[int, str], int], rng: random.Random
) -> list[RoundItem]:
    """One item per prompt and model (absolute), or per prompt and pair of models (pairwise), saved in a
    seeded random order."""
    if evaluation_round.is_pairwise:
        items = [
            RoundItem(
                round=evaluation_round,
                prompt_id=prompt_id,
                response_a_id=responses[(prompt_id, first)],
                response_b_id=responses[(prompt_id, second)],
            )
            for prompt_id in prompt_ids
            for first, second in _model_pairs(evaluation_round)
        ]
    else:
        items = [
            RoundItem(round=evaluation_round, prompt_id=prompt_id, response_a_id=responses[(prompt_id, name)])
            for prompt_id in prompt_ids
            for name in evaluation_round.model_names
        ]
    rng.shuffle(items)
    items = RoundItem.objects.bulk_create(items)
    if any(item.pk is None for item in items):  # databases that do not return ids from a bulk insert
        items = list(RoundItem.objects.filter(round=evaluation_round).order_by("pk"))
    return items


def _schedule_slots(
    evaluation_round: EvaluationRound,
    items: list[RoundItem],
    reviewers: list[User],
    model_of: dict[int, str],
    rng: random.Random,
) -> list[RoundSlot]:
    """`judgments_per_item` slots per item, each to a different reviewer, the least-loaded first. The
    k slots of an item alternate sides, and the first slot's side alternates over a pair's items, so
    each pair is shown in both orders equally often (to within one) and each reviewer sees each pair's
    models on both sides."""
    reviewer_order = {r.pk: rng.random() for r in reviewers}
    load: Counter[int] = Counter()
    # (reviewer, model, side) -> how often the reviewer saw that model's answer on that side.
    sides_seen: Counter[tuple[int, str, str]] = Counter()
    pair_starts: Counter[tuple[str, str]] = Counter()
    slots: list[RoundSlot] = []
    for item in items:
        model_a = model_of[item.response_a_id]
        first_left = True
        if item.response_b_id is not None:
            pair = (model_a, model_of[item.response_b_id])
            first_left = pair_starts[pair] % 2 == 0
            pair_starts[pair] += 1
        taken: set[int] = set()
        for index in range(evaluation_round.judgments_per_item):
            a_left = first_left if index % 2 == 0 else not first_left
            side = "left" if a_left else "right"
            candidates = [r for r in reviewers if r.pk not in taken]
            # Least-loaded first; then whoever has seen model a on this side least often.
            reviewer = min(
                candidates, key=lambda r: (load[r.pk], sides_seen[(r.pk, model_a, side)], reviewer_order[r.pk])
            )
            taken.add(reviewer.pk)
            load[reviewer.pk] += 1
            sides_seen[(reviewer.pk, model_a, side)] += 1
            shown = (item.response_a_id, item.response_b_id)
            left, right = shown if item.response_b_id is None or a_left else shown[::-1]
            slots.append(
                RoundSlot(
                    round=evaluation_round,
                    item=item,
                    reviewer=reviewer,
                    position=load[reviewer.pk],
                    left_response_id=left,
                    right_response_id=right,
                )
            )
    return slots


@transaction.atomic
def round_freeze(*, evaluation_round: EvaluationRound) -> EvaluationRound:
    """Freeze the definition and schedule every judgment.

    Items: one per prompt and model (absolute), or one per prompt and pair of models (pairwise:
    every pair, or each model against the reference), so every pair is covered on every prompt.
    Slots: see `_schedule_slots`.
    """
    evaluation_round = EvaluationRound.objects.select_for_update().get(pk=evaluation_round.pk)
    _require_draft(evaluation_round)
    reviewers = list(evaluation_round.reviewers.order_by("pk"))
    k = evaluation_round.judgments_per_item
    if len(reviewers) < k:
        raise ValidationError(f"{k} judgments per item need at least {k} reviewers; the round has {len(reviewers)}.")
    prompt_ids = list(evaluation_round.round_prompts.values_list("prompt_id", flat=True))
    if not prompt_ids:
        raise ValidationError("The round has no prompts.")
    if evaluation_round.grades_rubric and (missing := _prompts_without_accepted_rubric(prompt_ids)):
        raise ValidationError(
            f"{len(missing)} prompts of the round no longer have an accepted rubric (edited since, and back in "
            f"review): {_prompt_names(missing)}. Have them accepted again, or set up a new round without them."
        )
    responses = _latest_responses(evaluation_round, prompt_ids)
    rng = random.Random(evaluation_round.seed)
    items = _round_items(evaluation_round, prompt_ids, responses, rng)
    model_of = {pk: name for (_, name), pk in responses.items()}
    RoundSlot.objects.bulk_create(_schedule_slots(evaluation_round, items, reviewers, model_of, rng))
    evaluation_round.status = RoundStatus.FROZEN
    evaluation_round.frozen_at = timezone.now()
    evaluation_round.save(update_fields=["status", "frozen_at"])
    return evaluation_round


@transaction.atomic
def round_close(*, evaluation_round: EvaluationRound) -> EvaluationRound:
    evaluation_round = EvaluationRound.objects.select_for_update().get(pk=evaluation_round.pk)
    if evaluation_round.status != RoundStatus.FROZEN:
        raise ValidationError("Only a round open for judging can be closed.")
    evaluation_round.status = RoundStatus.CLOSED
    evaluation_round.save(update_fields=["status"])
    return evaluation_round


# ------------------------------------------------------------------------------------------------
# Judging
# ------------------------------------------------------------------------------------------------


@transaction.atomic
def judgment_submit(*, slot: RoundSlot, reviewer: User, answers: dict[str, Any]) -> tuple[Judgment, bool]:
    """Record the reviewer's answers for their slot; returns (judgment, created).

    Idempotent: submitting the same answers again returns the existing judgment; different answers
    for a judged slot are refused, because judgments are never edited."""
    slot = RoundSlot.objects.select_for_update().select_related("round__schema").get(pk=slot.pk)
    if slot.reviewer_id != reviewer.pk:
        raise ValidationError("This item is scheduled for another reviewer.")
    evaluation_round = slot.round
    if evaluation_round.status != RoundStatus.FROZEN:
        raise ValidationError("This round is not open for judging.")
    # A field grading the prompt's rubric records the reviewer's grade of the response judged, blind.
    graded = None if evaluation_round.is_pairwise else slot.left_response
    try:
        cleaned, grade = rubric_form_answers(
            definition=evaluation_round.schema.definition, answers=answers, response=graded, grader=reviewer
        )
    except ValidationError as exc:
        raise AnswersInvalid(exc.error_dict if hasattr(exc, "error_dict") else exc.error_list) from exc
    existing = Judgment.objects.filter(slot=slot).first()
    if existing is not None:
        if existing.answers == cleaned:
            return existing, False
        raise ValidationError("You have already judged this item; judgments cannot be changed.")
    judgment = Judgment(
        round=evaluation_round,
        slot=slot,
        item_id=slot.item_id,
        reviewer=reviewer,
        left_response_id=slot.left_response_id,
        right_response_id=slot.right_response_id,
        answers=cleaned,
        rubric_grade=grade,
    )
    judgment.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            judgment.save()
    except IntegrityError as exc:
        raise ValidationError("You have already judged this item; judgments cannot be changed.") from exc
    audit_record(
        action=AuditAction.REVIEW_SUBMITTED,
        target=judgment,
        actor=reviewer,
        project_id=evaluation_round.project_id,
        after={
            "round": evaluation_round.pk,
            "answers": texts_digested(cleaned, free_text_keys(evaluation_round.schema.definition)),
        },
    )
    return judgment, True
