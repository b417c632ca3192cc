"""Human-evaluation rounds: setting one up (its models, prompts, pairing and form).

Freezing its schedule and closing it are curation.services.round_schedules, judging is
curation.services.round_judging. The reads are in curation.selectors: rounds (progress), round_judging
(the next slot) and round_results (votes, results and majorities).
"""

import random
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from accounts.models import User
from curation.models import (
    EvaluationRound,
    Project,
    Prompt,
    RatingSchema,
    RoundMode,
    RoundPairing,
    RoundPrompt,
    RoundQuestion,
    RubricStatus,
    SchemaTarget,
)
from curation.schemas.defaults import PAIRWISE_JUDGMENT, RUBRIC_GRADING
from curation.selectors.rounds import model_responses_of

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


def prompt_names(prompts: Iterable[Prompt]) -> str:
    """Prompts as a curator finds them: their external id (or #id), the first NAMED_PROMPTS of them."""
    names = [p.external_id or f"#{p.pk}" for p in prompts]
    more = f" and {len(names) - NAMED_PROMPTS} more" if len(names) > NAMED_PROMPTS else ""
    return ", ".join(names[:NAMED_PROMPTS]) + more


def prompts_without_accepted_rubric(prompt_ids: Iterable[int]) -> list[Prompt]:
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
    missing = prompts_without_accepted_rubric(prompt_ids)
    if missing and chosen:
        raise ValidationError(
            {
                "prompts": f"{len(missing)} of the chosen prompts have no accepted rubric to grade against: "
                f"{prompt_names(missing)}. Have their rubrics written and accepted, or leave them out."
            }
        )
    kept = sorted(set(prompt_ids) - {p.pk for p in missing})
    if not kept:
        raise ValidationError(
            {
                "prompts": "No prompt that every chosen model answered has an accepted rubric "
                f"({prompt_names(missing)} have none). Have rubrics written and accepted first."
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
