"""Freezing a human-evaluation round: its schedule of who judges which item is fixed once, then the
round opens for judging until it is closed. Setting a round up is curation.services.rounds."""

import random
from collections import Counter
from itertools import combinations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from curation.models import (
    EvaluationRound,
    RoundItem,
    RoundPairing,
    RoundSlot,
    RoundStatus,
)
from curation.selectors.rounds import model_responses_of
from curation.services.rounds import prompt_names, prompts_without_accepted_rubric


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
    if evaluation_round.grades_rubric and (missing := prompts_without_accepted_rubric(prompt_ids)):
        raise ValidationError(
            f"{len(missing)} prompts of the round no longer have an accepted rubric (edited since, and back in "
            f"review): {prompt_names(missing)}. Have them accepted again, or set up a new round without them."
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
