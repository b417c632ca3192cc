"""A judged demo evaluation round, so a new install's round results and preference releases have figures.

Development only. The demo reviewers compare the three fictional models head to head on the demo
prompts. Their votes are deterministic (seeded by the slot) and follow a fixed order of strength
with some noise and the odd tie, so the results show a clear leader with honest uncertainty.
"""

import random

from django.db import transaction

from accounts.models import User
from curation.models import EvaluationRound, Project, RoundSlot

from .rounds import judgment_submit, round_close, round_create, round_freeze, round_next_slot

DEMO_ROUND_NAME = "Demo pairwise round"
# Bradley-Terry strengths of the fictional models: the chance that X beats Y is s(X) / (s(X) + s(Y)).
DEMO_STRENGTH = {"carenote-70b": 3.0, "clinibot-13b": 1.5, "medgen-7b": 1.0}
TIE_CHANCE = 0.15


def _verdict(rng: random.Random, slot: RoundSlot) -> str:
    """ "a" or "b" (the side shown on the left or right) or "tie", for the better answer."""
    left, right = slot.left_response.model_name, slot.right_response.model_name
    if rng.random() < TIE_CHANCE:
        return "tie"
    left_wins = rng.random() < DEMO_STRENGTH[left] / (DEMO_STRENGTH[left] + DEMO_STRENGTH[right])
    return "a" if left_wins else "b"


def _answers(rng: random.Random, slot: RoundSlot) -> dict:
    overall = _verdict(rng, slot)
    worse = {"a": "b", "b": "a", "tie": "tie"}[overall]
    return {
        "overall": overall,
        "correctness": overall if rng.random() < 0.8 else _verdict(rng, slot),
        "helpfulness": overall if rng.random() < 0.7 else _verdict(rng, slot),
        # "Which is more harmful?": mostly the answer judged worse overall.
        "harm": worse if rng.random() < 0.75 else "tie",
    }


@transaction.atomic
def demo_round_judge(*, project: Project, reviewers: list[User], created_by: User) -> EvaluationRound | None:
    """A closed pairwise round of every demo model against every other, fully judged by `reviewers`.

    Runs once: a project that already has the demo round keeps it (and None is returned).
    """
    if EvaluationRound.objects.filter(project=project, name=DEMO_ROUND_NAME).exists():
        return None
    evaluation_round = round_create(
        project=project,
        created_by=created_by,
        name=DEMO_ROUND_NAME,
        mode="pairwise",
        models=sorted(DEMO_STRENGTH),
        reviewers=reviewers,
        judgments_per_item=len(reviewers),
        seed=7,
    )
    evaluation_round = round_freeze(evaluation_round=evaluation_round)
    for reviewer in reviewers:
        while (slot := round_next_slot(evaluation_round=evaluation_round, reviewer=reviewer)) is not None:
            rng = random.Random(f"demo-round-{slot.item.prompt_id}-{slot.item_id}-{reviewer.email}")
            judgment_submit(slot=slot, reviewer=reviewer, answers=_answers(rng, slot))
    return round_close(evaluation_round=evaluation_round)
