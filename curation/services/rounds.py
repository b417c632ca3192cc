"""Human-evaluation rounds: setup, freezing and scheduling, judging, and the results.

Pairwise answers are recorded as the reviewer saw them: "a" is the answer shown on the left, "b" the
one on the right. Everything that counts votes in Python goes through `_verdict_for_models`, which maps the
sides back to the models with the slot's left/right record; `round_majority_items` does the same
mapping in SQL for exports, which must stream rather than load a round.

"Both bad" counts as a tie in ratings and win rates (each answer got the same, low, verdict) and is
never exported as a preference.
"""

import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from itertools import combinations
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from curation.models import (
    EvaluationRound,
    Judgment,
    ModelResponse,
    Project,
    Prompt,
    RatingSchema,
    RoundItem,
    RoundMode,
    RoundPairing,
    RoundPrompt,
    RoundSlot,
    RoundStatus,
    SchemaTarget,
)
from curation.schemas.definitions import PAIRWISE_OPTIONS, clean_answers, field_level, field_options
from curation.stats import ranking

PAIRWISE_SCHEMA_NAME = "Pairwise judgment"
PAIRWISE_VERDICTS = ("a", "b", "tie", "both_bad")
# Bootstrap draws for the results page; breakdowns use fewer because there are many of them.
RESULT_DRAWS = 1000
BREAKDOWN_DRAWS = 300
RESULTS_CACHE_SECONDS = 7 * 24 * 3600


def _pairwise_field(key: str, label: str, *, required: bool, reverse: bool = False) -> dict:
    options = [dict(o) for o in PAIRWISE_OPTIONS]
    if reverse:
        options[0]["label"], options[1]["label"] = "A is more harmful", "B is more harmful"
        options[2]["label"] = "Equally harmful (or neither)"
    field = {"key": key, "label": label, "kind": "pairwise_choice", "required": required, "options": options}
    if reverse:
        # The question asks which answer is worse: a vote for A is a win for B when ranking.
        field["reverse"] = True
    return field


PAIRWISE_JUDGMENT = {
    "fields": [
        _pairwise_field("overall", "Overall, which answer is better?", required=True),
        _pairwise_field("correctness", "Which is more correct?", required=True),
        _pairwise_field("helpfulness", "Which is more helpful?", required=True),
        _pairwise_field("harm", "Which is more harmful?", required=True, reverse=True),
        {
            "key": "rationale",
            "label": "Rationale (optional)",
            "kind": "free_text",
            "required": False,
            "max_length": 4000,
        },
    ]
}


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


def project_model_choices(*, project: Project) -> list[dict[str, Any]]:
    """Model name/version pairs with responses to the project's prompts, and how many prompts each answered."""
    rows = (
        ModelResponse.objects.filter(prompt__project=project)
        .values("model_name", "model_version")
        .annotate(prompts=Count("prompt", distinct=True))
        .order_by("model_name", "model_version")
    )
    return [{"name": r["model_name"], "version": r["model_version"], "prompts": r["prompts"]} for r in rows]


# ------------------------------------------------------------------------------------------------
# Setup and freezing
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


def _responses_of(*, prompts: QuerySet[Prompt] | Iterable[Prompt], spec: dict[str, str]) -> QuerySet[ModelResponse]:
    responses = ModelResponse.objects.filter(prompt__in=prompts, model_name=spec["name"])
    if spec["version"]:
        responses = responses.filter(model_version=spec["version"])
    return responses


def _eligible_prompts(*, project: Project, specs: list[dict[str, str]], prompt_ids: Iterable[int] | None) -> list[int]:
    """Prompt ids of the project (restricted to `prompt_ids` if given) that every model answered."""
    prompts = Prompt.objects.filter(project=project)
    if prompt_ids is not None:
        prompts = prompts.filter(pk__in=list(prompt_ids))
    ids = set(prompts.values_list("pk", flat=True))
    for spec in specs:
        ids &= set(_responses_of(prompts=prompts, spec=spec).values_list("prompt_id", flat=True))
    return sorted(ids)


@transaction.atomic
def round_create(
    *,
    project: Project,
    created_by: User,
    name: str,
    mode: str,
    models: Iterable[dict | str],
    reviewers: Iterable[User],
    judgments_per_item: int = 2,
    reference_model: str = "",
    pairing: str = RoundPairing.ALL_PAIRS,
    prompt_ids: Iterable[int] | None = None,
    sample_size: int | None = None,
    seed: int = 0,
) -> EvaluationRound:
    """A draft round over the project's prompts that every chosen model answered (or `prompt_ids`),
    optionally a seeded sample of `sample_size` of them. Raises ValidationError and creates nothing
    when the definition is not usable."""
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "A round needs a name."
    elif EvaluationRound.objects.filter(project=project, name=name).exists():
        errors["name"] = f"This project already has a round named {name!r}."
    if mode not in RoundMode.values:
        errors["mode"] = f"Mode must be one of {', '.join(RoundMode.values)}."
    if pairing not in RoundPairing.values:
        errors["pairing"] = f"Pairing must be one of {', '.join(RoundPairing.values)}."
    specs = _normalise_models(models)
    names = [m["name"] for m in specs]
    minimum = 2 if mode == RoundMode.PAIRWISE else 1
    if len(specs) < minimum:
        errors["models"] = f"A {mode} round compares at least {minimum} model{'s' if minimum > 1 else ''}."
    reference_model = (reference_model or "").strip()
    if reference_model and reference_model not in names:
        errors["reference_model"] = "The reference model must be one of the models compared."
    if pairing == RoundPairing.VS_REFERENCE and mode == RoundMode.PAIRWISE and not reference_model:
        errors["reference_model"] = "Pairing each model against the reference needs a reference model."
    reviewers = list(reviewers)
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
    if errors:
        raise ValidationError(errors)

    for spec in specs:
        if not _responses_of(prompts=Prompt.objects.filter(project=project), spec=spec).exists():
            label = spec["name"] + (f" {spec['version']}" if spec["version"] else "")
            raise ValidationError({"models": f"No response from {label} to a prompt of this project."})
    eligible = _eligible_prompts(project=project, specs=specs, prompt_ids=prompt_ids)
    if not eligible:
        raise ValidationError({"prompts": "No prompt has a response from every chosen model."})
    if sample_size is not None and sample_size < len(eligible):
        eligible = sorted(random.Random(seed).sample(eligible, sample_size))

    if mode == RoundMode.PAIRWISE:
        schema = pairwise_schema_for(project=project)
    else:
        schema = project.response_schema
        if schema is None:
            raise ValidationError({"mode": "The project has no response form to rate responses with."})
    evaluation_round = EvaluationRound(
        project=project,
        name=name,
        mode=mode,
        pairing=pairing if mode == RoundMode.PAIRWISE else RoundPairing.ALL_PAIRS,
        schema=schema,
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


def _require_draft(evaluation_round: EvaluationRound) -> None:
    if evaluation_round.status != RoundStatus.DRAFT:
        raise ValidationError(
            f"The round {evaluation_round.name!r} is {evaluation_round.get_status_display().lower()}: "
            "its definition can no longer change. Set up a new round instead."
        )


@transaction.atomic
def round_update(
    *,
    evaluation_round: EvaluationRound,
    name: str | None = None,
    judgments_per_item: int | None = None,
    reviewers: Iterable[User] | None = None,
) -> EvaluationRound:
    """Change a draft round. A frozen or closed round refuses, whatever the change."""
    evaluation_round = EvaluationRound.objects.select_for_update().get(pk=evaluation_round.pk)
    _require_draft(evaluation_round)
    fields = []
    if name is not None:
        evaluation_round.name = name.strip()
        fields.append("name")
    if judgments_per_item is not None:
        evaluation_round.judgments_per_item = judgments_per_item
        fields.append("judgments_per_item")
    evaluation_round.full_clean()
    if fields:
        evaluation_round.save(update_fields=fields)
    if reviewers is not None:
        evaluation_round.reviewers.set(list(reviewers))
    return evaluation_round


def _model_pairs(evaluation_round: EvaluationRound) -> list[tuple[str, str]]:
    names = evaluation_round.model_names
    if evaluation_round.pairing == RoundPairing.VS_REFERENCE:
        reference = evaluation_round.reference_model
        return [(reference, name) for name in names if name != reference]
    return list(combinations(names, 2))


def _latest_responses(evaluation_round: EvaluationRound, prompt_ids: list[int]) -> dict[tuple[int, str], int]:
    """(prompt id, model name) -> response id; when a model answered a prompt twice, its latest answer."""
    chosen: dict[tuple[int, str], int] = {}
    for spec in evaluation_round.compared_models:
        rows = _responses_of(prompts=prompt_ids, spec=spec).values("prompt_id").annotate(latest=Max("pk"))
        for row in rows:
            chosen[(row["prompt_id"], spec["name"])] = row["latest"]
    return chosen


@transaction.atomic
def round_freeze(*, evaluation_round: EvaluationRound) -> EvaluationRound:
    """Freeze the definition and schedule every judgment.

    Items: one per prompt and model (absolute), or one per prompt and pair of models (pairwise:
    every pair, or each model against the reference), so every pair is covered on every prompt.
    Slots: `judgments_per_item` per item, each to a different reviewer, the least-loaded first. The
    k slots of an item alternate sides, and the first slot's side alternates over a pair's items in
    a seeded random order, so each pair is shown in both orders equally often (to within one) and
    each reviewer sees each pair's models on both sides.
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
    responses = _latest_responses(evaluation_round, prompt_ids)
    missing = [(p, name) for p in prompt_ids for name in evaluation_round.model_names if (p, name) not in responses]
    if missing:
        prompt_id, name = missing[0]
        raise ValidationError(
            f"{len(missing)} answer(s) the round was set up with are gone (e.g. {name} on prompt {prompt_id}); "
            "set up a new round."
        )
    rng = random.Random(evaluation_round.seed)

    items: list[RoundItem] = []
    if evaluation_round.is_pairwise:
        pairs = _model_pairs(evaluation_round)
        for prompt_id in prompt_ids:
            for first, second in pairs:
                items.append(
                    RoundItem(
                        round=evaluation_round,
                        prompt_id=prompt_id,
                        response_a_id=responses[(prompt_id, first)],
                        response_b_id=responses[(prompt_id, second)],
                    )
                )
    else:
        for prompt_id in prompt_ids:
            for name in evaluation_round.model_names:
                items.append(
                    RoundItem(round=evaluation_round, prompt_id=prompt_id, response_a_id=responses[(prompt_id, name)])
                )
    rng.shuffle(items)
    items = RoundItem.objects.bulk_create(items)
    if any(item.pk is None for item in items):
        items = list(RoundItem.objects.filter(round=evaluation_round).order_by("pk"))

    model_of = {pk: name for (_, name), pk in responses.items()}
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
        for index in range(k):
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
            if item.response_b_id is None or a_left:
                left, right = item.response_a_id, item.response_b_id
            else:
                left, right = item.response_b_id, item.response_a_id
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
    RoundSlot.objects.bulk_create(slots)
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


def round_progress(*, evaluation_round: EvaluationRound, reviewer: User | None = None) -> dict[str, int]:
    slots = RoundSlot.objects.filter(round=evaluation_round)
    if reviewer is not None:
        slots = slots.filter(reviewer=reviewer)
    counts = slots.aggregate(total=Count("pk"), done=Count("pk", filter=Q(judgment__isnull=False)))
    return {"total": counts["total"], "done": counts["done"], "left": counts["total"] - counts["done"]}


def round_progress_by_reviewer(*, evaluation_round: EvaluationRound) -> list[tuple[User, dict[str, int]]]:
    """Each reviewer of the round (by name) with their progress, as `round_progress` gives it: one query."""
    reviewers = evaluation_round.reviewers.annotate(
        total=Count("round_slots", filter=Q(round_slots__round=evaluation_round)),
        done=Count("round_slots", filter=Q(round_slots__round=evaluation_round, round_slots__judgment__isnull=False)),
    ).order_by("name", "email")
    return [(r, {"total": r.total, "done": r.done, "left": r.total - r.done}) for r in reviewers]


def round_next_slot(*, evaluation_round: EvaluationRound, reviewer: User) -> RoundSlot | None:
    """The reviewer's first unjudged slot in queue order, or None when they are done.

    On PostgreSQL a slot whose submission is in flight (locked by `judgment_submit`) is skipped, so a
    second tab never opens the item the first tab is submitting."""
    if evaluation_round.status != RoundStatus.FROZEN:
        return None
    slots = RoundSlot.objects.filter(round=evaluation_round, reviewer=reviewer, judgment__isnull=True).order_by(
        "position", "pk"
    )
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            slot_id = slots.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True).first()
        else:
            slot_id = slots.values_list("pk", flat=True).first()
    if slot_id is None:
        return None
    return RoundSlot.objects.select_related("item__prompt", "left_response", "right_response", "round__schema").get(
        pk=slot_id
    )


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
    cleaned = clean_answers(evaluation_round.schema.definition, answers)
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
    )
    judgment.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            judgment.save()
    except IntegrityError as exc:
        raise ValidationError("You have already judged this item; judgments cannot be changed.") from exc
    return judgment, True


# ------------------------------------------------------------------------------------------------
# Votes, scores and results
# ------------------------------------------------------------------------------------------------


def round_judgments(*, evaluation_round: EvaluationRound) -> QuerySet[Judgment]:
    return Judgment.objects.filter(round=evaluation_round).select_related(
        "item__prompt", "item__response_a", "item__response_b", "left_response", "right_response"
    )


def _verdict_for_models(judgment: Judgment, field: dict) -> str | None:
    """The verdict on the item's response_a / response_b ("a", "b", "tie", "both_bad") from the
    reviewer's left/right answer, with reversed questions ("which is more harmful") turned round."""
    value = judgment.answers.get(field["key"])
    if value not in PAIRWISE_VERDICTS:
        return None
    if value in ("a", "b"):
        left_is_a = judgment.left_response_id == judgment.item.response_a_id
        picked_a = (value == "a") == left_is_a
        if field.get("reverse"):
            picked_a = not picked_a
        return "a" if picked_a else "b"
    return value


def _prompt_key(prompt: Prompt) -> str:
    return prompt.external_id or f"prompt-{prompt.pk}"


def pairwise_axes(evaluation_round: EvaluationRound) -> list[dict]:
    return [f for f in evaluation_round.schema.fields if f["kind"] == "pairwise_choice"]


def round_votes(*, evaluation_round: EvaluationRound, axis: str, judgments: Iterable[Judgment] | None = None) -> list:
    """The round's pairwise votes on one axis as the statistics engine takes them."""
    field = next((f for f in pairwise_axes(evaluation_round) if f["key"] == axis), None)
    if field is None:
        raise ValidationError(f"{axis!r} is not a pairwise axis of this round's form.")
    votes = []
    for judgment in judgments if judgments is not None else round_judgments(evaluation_round=evaluation_round):
        verdict = _verdict_for_models(judgment, field)
        if verdict is None:
            continue
        item = judgment.item
        votes.append(
            ranking.PairwiseVote(
                prompt=_prompt_key(item.prompt),
                model_a=item.response_a.model_name,
                model_b=item.response_b.model_name,
                winner="tie" if verdict == "both_bad" else verdict,
                length_a=float(len(item.response_a.text)),
                length_b=float(len(item.response_b.text)),
                a_side="left" if judgment.left_response_id == item.response_a_id else "right",
            )
        )
    return votes


def _numeric_fields(evaluation_round: EvaluationRound) -> list[dict]:
    return [f for f in evaluation_round.schema.fields if f["kind"] in ("ordinal_scale", "number")]


def round_scores(*, evaluation_round: EvaluationRound, judgments: Iterable[Judgment] | None = None) -> list:
    """Absolute-mode scores on every numeric axis (scales and numbers) of the response form."""
    fields = _numeric_fields(evaluation_round)
    scores = []
    for judgment in judgments if judgments is not None else round_judgments(evaluation_round=evaluation_round):
        for field in fields:
            value = judgment.answers.get(field["key"])
            if isinstance(value, int | float) and not isinstance(value, bool):
                scores.append(
                    ranking.AbsoluteScore(
                        prompt=_prompt_key(judgment.item.prompt),
                        model=judgment.item.response_a.model_name,
                        axis=field["key"],
                        score=float(value),
                    )
                )
    return scores


def _pairwise_block(evaluation_round: EvaluationRound, votes: list, draws: int) -> dict:
    if not votes:
        return {"votes": 0, "reason": "no judgment on this axis yet"}
    models = {v.model_a for v in votes} | {v.model_b for v in votes}
    reference = evaluation_round.reference_model if evaluation_round.reference_model in models else None
    return ranking.pairwise_results(votes, reference=reference, draws=draws, seed=evaluation_round.seed)


def _agreement(evaluation_round: EvaluationRound, judgments: list[Judgment]) -> list[dict]:
    """Agreement per axis over items judged by two or more reviewers, on model-relative verdicts."""
    from curation.stats.agreement import agreement_report, ratings_from_rows

    rows_by_field: list[tuple[dict, str, list, list | None]] = []
    if evaluation_round.is_pairwise:
        for field in pairwise_axes(evaluation_round):
            rows = [(j.item_id, j.reviewer_id, _verdict_for_models(j, field)) for j in judgments]
            rows_by_field.append((field, "nominal", rows, list(PAIRWISE_VERDICTS)))
    else:
        for field in evaluation_round.schema.fields:
            level = field_level(field)
            if field["kind"] in ("ordinal_scale", "number"):
                rows = [(j.item_id, j.reviewer_id, j.answers.get(field["key"])) for j in judgments]
                rows_by_field.append((field, level, rows, None))
            elif field["kind"] == "single_choice":
                order = [o["value"] for o in field_options(field)]
                rows = [(j.item_id, j.reviewer_id, j.answers.get(field["key"])) for j in judgments]
                rows_by_field.append((field, level, rows, order))
    result = []
    for field, level, rows, order in rows_by_field:
        table = ratings_from_rows(rows, order=order)
        entry = {"axis": field["key"], "label": field.get("label", field["key"]), "level": level}
        if table.matrix.size == 0:
            result.append(entry | {"undefined": "no judgment yet"})
            continue
        report = agreement_report(
            table.matrix,
            level,
            raters=table.raters,
            n_categories=len(order) if order else None,
            draws=200,
            seed=evaluation_round.seed,
            pairs=False,
        )
        result.append(entry | {"report": report})
    return result


def round_agreement(*, evaluation_round: EvaluationRound) -> list[dict]:
    """Agreement between the round's reviewers per axis (as on the results page), on its judgments so far."""
    return _agreement(evaluation_round, list(round_judgments(evaluation_round=evaluation_round)))


def _difficulty_breakdown(evaluation_round: EvaluationRound, judgments: list[Judgment]) -> list[dict]:
    """Results per prompt difficulty (prompts carry no topic, so difficulty is the breakdown there is)."""
    by_difficulty: dict[int, list[Judgment]] = defaultdict(list)
    for judgment in judgments:
        if judgment.item.prompt.difficulty is not None:
            by_difficulty[judgment.item.prompt.difficulty].append(judgment)
    breakdown = []
    for difficulty in sorted(by_difficulty):
        subset = by_difficulty[difficulty]
        entry: dict[str, Any] = {"difficulty": difficulty, "judgments": len(subset)}
        if evaluation_round.is_pairwise:
            axis = pairwise_axes(evaluation_round)[0]["key"]
            votes = round_votes(evaluation_round=evaluation_round, axis=axis, judgments=subset)
            entry["axis"] = axis
            entry["results"] = _pairwise_block(evaluation_round, votes, BREAKDOWN_DRAWS) if votes else None
        else:
            scores = round_scores(evaluation_round=evaluation_round, judgments=subset)
            entry["scores"] = (
                ranking.absolute_scores(scores, draws=BREAKDOWN_DRAWS, seed=evaluation_round.seed) if scores else []
            )
        breakdown.append(entry)
    return breakdown


def _results_header(evaluation_round: EvaluationRound) -> dict[str, Any]:
    """The round's definition and progress: what can change without a new judgment."""
    return {
        "round": {
            "id": evaluation_round.pk,
            "name": evaluation_round.name,
            "mode": evaluation_round.mode,
            "pairing": evaluation_round.pairing,
            "status": evaluation_round.status,
            "models": evaluation_round.compared_models,
            "reference_model": evaluation_round.reference_model or None,
            "judgments_per_item": evaluation_round.judgments_per_item,
            "seed": evaluation_round.seed,
        },
        "progress": round_progress(evaluation_round=evaluation_round),
    }


def round_results_get(*, evaluation_round: EvaluationRound) -> dict[str, Any]:
    """`round_results`, cached until the round's next judgment (judgments are never edited or removed,
    so their number and latest id say whether anything changed); the header is always fresh."""
    state = Judgment.objects.filter(round=evaluation_round).aggregate(n=Count("id"), last=Max("id"))
    key = f"round-results:v1:{evaluation_round.pk}:{state['n']}:{state['last']}"
    results = cache.get(key)
    if results is None:
        results = round_results(evaluation_round=evaluation_round)
        cache.set(key, results, RESULTS_CACHE_SECONDS)
        return results
    return {**results, **_results_header(evaluation_round)}


def round_results(*, evaluation_round: EvaluationRound, draws: int = RESULT_DRAWS) -> dict[str, Any]:
    """Everything the results page, the API and the CSV show, computed by curation.stats.ranking."""
    judgments = list(round_judgments(evaluation_round=evaluation_round))
    results: dict[str, Any] = {
        **_results_header(evaluation_round),
        "judgments": len(judgments),
        "axes": [],
        "scores": [],
    }
    if evaluation_round.is_pairwise:
        for field in pairwise_axes(evaluation_round):
            votes = round_votes(evaluation_round=evaluation_round, axis=field["key"], judgments=judgments)
            both_bad = sum(1 for j in judgments if j.answers.get(field["key"]) == "both_bad")
            results["axes"].append(
                {
                    "axis": field["key"],
                    "label": field.get("label", field["key"]),
                    "reversed": bool(field.get("reverse")),
                    "both_bad": both_bad,
                    **_pairwise_block(evaluation_round, votes, draws),
                }
            )
    else:
        scores = round_scores(evaluation_round=evaluation_round, judgments=judgments)
        labels = {f["key"]: f.get("label", f["key"]) for f in _numeric_fields(evaluation_round)}
        if scores:
            for row in ranking.absolute_scores(scores, draws=draws, seed=evaluation_round.seed):
                results["scores"].append(row | {"label": labels.get(row["axis"], row["axis"])})
    results["by_difficulty"] = _difficulty_breakdown(evaluation_round, judgments)
    results["agreement"] = _agreement(evaluation_round, judgments)
    return results


def round_majority_items(
    *, rounds: Iterable[EvaluationRound], axis: str = "overall", min_judgments: int = 2
) -> QuerySet[RoundItem]:
    """The pairwise items of `rounds` with a clear majority on `axis`, counted in the database.

    An item qualifies when it has at least `min_judgments` judgments and strictly more than half of
    them (ties, "both bad" and unanswered included in the count) picked the same model. Each item is
    annotated with `judgment_count`, `votes_a` and `votes_b` (votes for response_a's and response_b's
    model), in (round, item) order. Votes are mapped from sides to models here exactly as
    `_verdict_for_models` maps them: a vote for the left answer is a vote for the response shown
    left, turned round on a reversed question ("which is more harmful").
    Raises ValidationError when a round's form has no such pairwise axis.
    """
    straight, reversed_ = [], []
    for evaluation_round in rounds:
        if not evaluation_round.is_pairwise:
            continue
        field = next((f for f in pairwise_axes(evaluation_round) if f["key"] == axis), None)
        if field is None:
            raise ValidationError(f"{axis!r} is not a pairwise axis of the form of round {evaluation_round.name!r}.")
        (reversed_ if field.get("reverse") else straight).append(evaluation_round.pk)

    def _judgment_count(condition: Q) -> Coalesce:
        counted = (
            Judgment.objects.filter(item=OuterRef("pk"))
            .filter(condition)
            .order_by()
            .values("item")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))

    # A vote for the item's response in `column`: "a" (left) when it was shown left, "b" (right) when
    # it was shown right; on a reversed question, the other way round.
    def for_response(column: str) -> Coalesce:
        answer = f"answers__{axis}"
        picked = Q(pk__in=[])
        for round_ids, if_left, if_right in ((straight, "a", "b"), (reversed_, "b", "a")):
            if round_ids:
                picked |= Q(round_id__in=round_ids, **{answer: if_left}, left_response_id=OuterRef(column))
                picked |= Q(round_id__in=round_ids, **{answer: if_right}, right_response_id=OuterRef(column))
        return _judgment_count(picked)

    return (
        RoundItem.objects.filter(round_id__in=[*straight, *reversed_], response_b__isnull=False)
        .annotate(
            judgment_count=_judgment_count(Q()),
            votes_a=for_response("response_a_id"),
            votes_b=for_response("response_b_id"),
        )
        .annotate(twice_a=F("votes_a") * 2, twice_b=F("votes_b") * 2)
        .filter(judgment_count__gte=max(1, min_judgments))
        .filter(Q(twice_a__gt=F("judgment_count")) | Q(twice_b__gt=F("judgment_count")))
        .order_by("round_id", "pk")
    )


PAIR_FIELDS = (
    "pk",
    "round_id",
    "round__name",
    "prompt_id",
    "prompt__external_id",
    "prompt__instruction",
    "prompt__input",
    "response_a_id",
    "response_a__model_name",
    "response_a__text",
    "response_b_id",
    "response_b__model_name",
    "response_b__text",
    "judgment_count",
    "votes_a",
    "votes_b",
)


def round_pair_rows(*, items: QuerySet[RoundItem], axis: str, chunk_size: int = 2000) -> Iterator[dict[str, Any]]:
    """Stream `round_majority_items` as preference pairs: plain dicts, one chunk of rows in memory at a time."""
    for row in items.values(*PAIR_FIELDS).iterator(chunk_size=chunk_size):
        a_wins = row["votes_a"] > row["votes_b"]
        chosen, rejected = ("response_a", "response_b") if a_wins else ("response_b", "response_a")
        votes_for, votes_against = (row["votes_a"], row["votes_b"]) if a_wins else (row["votes_b"], row["votes_a"])
        yield {
            "prompt": row["prompt__instruction"],
            "input": row["prompt__input"],
            "chosen": row[f"{chosen}__text"],
            "rejected": row[f"{rejected}__text"],
            "chosen_model": row[f"{chosen}__model_name"],
            "rejected_model": row[f"{rejected}__model_name"],
            "chosen_response_id": row[f"{chosen}_id"],
            "rejected_response_id": row[f"{rejected}_id"],
            "prompt_id": row["prompt_id"],
            "prompt_key": row["prompt__external_id"] or f"prompt-{row['prompt_id']}",
            "round_id": row["round_id"],
            "round": row["round__name"],
            "item_id": row["pk"],
            "axis": axis,
            "votes_for_chosen": votes_for,
            "votes_against_chosen": votes_against,
            "votes": row["judgment_count"],
        }


def round_preference_pairs(
    *, evaluation_round: EvaluationRound, axis: str = "overall", min_judgments: int = 2
) -> Iterator[dict[str, Any]]:
    """Preference pairs from pairwise items with a clear majority on `axis` (see `round_majority_items`),
    streamed from the database in item order. Ties and "both bad" are never exported; `votes` is the
    item's number of judgments, `votes_for_chosen` / `votes_against_chosen` the votes for each model."""
    if not evaluation_round.is_pairwise:
        return
    items = round_majority_items(rounds=[evaluation_round], axis=axis, min_judgments=min_judgments)
    yield from round_pair_rows(items=items, axis=axis)
