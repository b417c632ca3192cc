"""A judged demo evaluation round, so a new install's round results and preference releases have figures.

Development only. The demo reviewers compare the three fictional models head to head on the demo
prompts, as a careful clinician would: each answer of the demo file carries a reference rating
(correctness, helpfulness and harm, on the response review form's scales), and a judge prefers the
answer that rating scores higher on each question. Now and then a judge departs from it, so the
round shows honest uncertainty and moderate agreement; but a departure between a harmful answer and a
harmless one is at most a tie, so no harmful answer ever wins a vote or reaches a preference release.
The votes are deterministic: seeded by content, not database ids.
"""

import json
import random
from pathlib import Path

from django.db import transaction

from accounts.models import User
from curation.demo.projects import DEMO_FILE
from curation.models import EvaluationRound, Project, RoundSlot
from curation.selectors.round_judging import round_next_slot
from curation.services.round_judging import judgment_submit
from curation.services.round_schedules import round_close, round_freeze
from curation.services.rounds import round_create

DEMO_ROUND_NAME = "Demo pairwise round"
HARM_PENALTY = {"none": 0.0, "moderate": 2.0, "severe": 4.0}
# Answers whose scores on a question are closer than this are judged a tie.
TIE_MARGIN = 0.5
# How often a judge departs from what the reference rating says about a question.
DEPARTURE_CHANCE = 0.2

Ratings = dict[tuple[str, str], dict]  # (prompt ref, model) -> reference rating


def demo_reference_ratings(*, path: Path = DEMO_FILE) -> Ratings:
    """Each demo answer's reference rating, keyed by (prompt ref, model); one missing or off the scales
    is an error naming the answer."""
    data = json.loads(path.read_text(encoding="utf-8"))
    ratings: Ratings = {}
    for number, record in enumerate(data.get("prompt_responses", []), start=1):
        where = f"{path.name}: prompt_responses[{number}] ({record.get('prompt')}, {record.get('model')})"
        rating = record.get("reference_rating")
        if not isinstance(rating, dict):
            raise ValueError(f"{where} has no reference_rating")
        if rating.get("harm") not in HARM_PENALTY:
            raise ValueError(f"{where}: reference_rating.harm must be one of {', '.join(HARM_PENALTY)}")
        for scale in ("correctness", "helpfulness"):
            if rating.get(scale) not in range(1, 6):
                raise ValueError(f"{where}: reference_rating.{scale} must be a whole number from 1 to 5")
        ratings[(record["prompt"], record["model"])] = rating
    return ratings


def demo_answer_is_harmful(rating: dict) -> bool:
    return rating["harm"] != "none"


def _score(rating: dict, question: str) -> float:
    """How good an answer is on one question (on "harm", how harmful)."""
    penalty = HARM_PENALTY[rating["harm"]]
    if question == "harm":
        return penalty
    if question == "overall":
        return rating["correctness"] + rating["helpfulness"] / 2 - penalty
    return rating[question] - penalty


def _verdict(own: random.Random, left: dict, right: dict, question: str) -> str:
    """One judge's answer to one question: the reference rating's view, or now and then another."""
    difference = _score(left, question) - _score(right, question)
    view = "tie" if abs(difference) < TIE_MARGIN else ("a" if difference > 0 else "b")
    if own.random() >= DEPARTURE_CHANCE:
        return view
    if demo_answer_is_harmful(left) != demo_answer_is_harmful(right):
        return "tie"  # a careful judge may call it even, never the harmful answer better
    return own.choice([v for v in ("a", "b", "tie") if v != view])


def _pair_key(slot: RoundSlot) -> str:
    """Seeds by content, not by database ids, so every database gets the same demo round."""
    prompt = slot.item.prompt
    models = sorted((slot.left_response.model_name, slot.right_response.model_name))
    return f"demo-round-{prompt.external_id or prompt.instruction}-{models[0]}-{models[1]}"


def _answers(own: random.Random, slot: RoundSlot, ratings: Ratings) -> dict:
    ref = slot.item.prompt.external_id
    left = ratings[(ref, slot.left_response.model_name)]
    right = ratings[(ref, slot.right_response.model_name)]
    return {
        question: _verdict(own, left, right, question) for question in ("overall", "correctness", "helpfulness", "harm")
    }


@transaction.atomic
def demo_round_judge(
    *, project: Project, reviewers: list[User], created_by: User, path: Path = DEMO_FILE
) -> EvaluationRound | None:
    """A closed pairwise round of every demo model against every other, fully judged by `reviewers`.

    Runs once: a project that already has the demo round keeps it (and None is returned).
    """
    if EvaluationRound.objects.filter(project=project, name=DEMO_ROUND_NAME).exists():
        return None
    ratings = demo_reference_ratings(path=path)
    evaluation_round = round_create(
        project=project,
        created_by=created_by,
        name=DEMO_ROUND_NAME,
        mode="pairwise",
        models=sorted({model for _, model in ratings}),
        reviewers=reviewers,
        judgments_per_item=len(reviewers),
        seed=7,
    )
    evaluation_round = round_freeze(evaluation_round=evaluation_round)
    for reviewer in reviewers:
        while (slot := round_next_slot(evaluation_round=evaluation_round, reviewer=reviewer)) is not None:
            own = random.Random(f"{_pair_key(slot)}-{reviewer.email}")
            judgment_submit(slot=slot, reviewer=reviewer, answers=_answers(own, slot, ratings))
    return round_close(evaluation_round=evaluation_round)
