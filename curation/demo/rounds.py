"""A judged demo evaluation round, so a new install's round results and preference releases have figures.

Development only. The demo reviewers compare the three fictional models head to head on the demo
prompts. Their votes are deterministic and follow a fixed order of strength with some noise and the
odd tie. As with real judges, they share a view of each pair (drawn once per item, in model terms)
and now and then depart from it, so the round shows a clear leader, honest uncertainty and moderate
agreement between judges.
"""

import random

from django.db import transaction

from accounts.models import User
from curation.models import EvaluationRound, Project, RoundSlot
from curation.selectors.rounds import round_next_slot
from curation.services.rounds import judgment_submit, round_close, round_create, round_freeze

DEMO_ROUND_NAME = "Demo pairwise round"
# Bradley-Terry strengths of the fictional models: the chance that X beats Y is s(X) / (s(X) + s(Y)).
DEMO_STRENGTH = {"carenote-70b": 3.0, "clinibot-13b": 1.5, "medgen-7b": 1.0}
TIE_CHANCE = 0.15
# How often a judge departs from the shared view of an item and votes on their own.
DEPARTURE_CHANCE = 0.25


def _winner(rng: random.Random, first: str, second: str) -> str:
    """The better of two models ("tie" now and then), drawn by their strengths."""
    if rng.random() < TIE_CHANCE:
        return "tie"
    return first if rng.random() < DEMO_STRENGTH[first] / (DEMO_STRENGTH[first] + DEMO_STRENGTH[second]) else second


def _pair_key(slot: RoundSlot) -> str:
    """Seeds by content, not by database ids, so every database gets the same demo round."""
    prompt = slot.item.prompt
    models = sorted((slot.left_response.model_name, slot.right_response.model_name))
    return f"demo-round-{prompt.external_id or prompt.instruction}-{models[0]}-{models[1]}"


def _answers(own: random.Random, slot: RoundSlot) -> dict:
    """One judge's answers: the item's shared view on each question unless this judge departs from it."""
    left, right = slot.left_response.model_name, slot.right_response.model_name
    first, second = sorted((left, right))
    side = {left: "a", right: "b", "tie": "tie"}

    def verdict(question: str) -> str:
        view = random.Random(f"{_pair_key(slot)}-{question}")
        judge = own if own.random() < DEPARTURE_CHANCE else view
        return side[_winner(judge, first, second)]

    overall = verdict("overall")
    return {
        "overall": overall,
        "correctness": verdict("correctness"),
        "helpfulness": verdict("helpfulness"),
        # "Which is more harmful?": mostly the answer judged worse overall.
        "harm": {"a": "b", "b": "a", "tie": "tie"}[overall] if own.random() < 0.75 else "tie",
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
            own = random.Random(f"{_pair_key(slot)}-{reviewer.email}")
            judgment_submit(slot=slot, reviewer=reviewer, answers=_answers(own, slot))
    return round_close(evaluation_round=evaluation_round)
