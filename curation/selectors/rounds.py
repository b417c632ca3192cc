"""Reads for evaluation rounds: who sees which round, with their progress, the models a round can
compare, and each reviewer's progress.

The next slot to judge is in curation.selectors.round_judging; the votes, scores, results and the
majority pairs releases export are in curation.selectors.round_results.
"""

from collections.abc import Iterable
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import User
from curation.models import EvaluationRound, Judgment, ModelResponse, Project, Prompt, RoundSlot


def rounds_visible_to(*, user: User, project: Project) -> QuerySet[EvaluationRound]:
    """The project's rounds a user may open (all of them for curators, the ones they review otherwise),
    with the user's own progress, and for curators the round's (`judgment_count`): how many others have
    judged is never shown to a reviewer (blind review)."""
    rounds = EvaluationRound.objects.filter(project=project)
    progress = {
        "slot_count": _count_of(RoundSlot.objects.all()),
        "my_slots": _count_of(RoundSlot.objects.filter(reviewer=user)),
        "my_done": _count_of(RoundSlot.objects.filter(reviewer=user, judgment__isnull=False)),
    }
    if user.is_curator:
        progress["judgment_count"] = _count_of(Judgment.objects.all())
    else:
        rounds = rounds.filter(reviewers=user)
    return rounds.annotate(**progress).order_by("-created_at", "-pk")


def _count_of(rows: QuerySet) -> Coalesce:
    """How many of `rows` (slots or judgments) belong to the outer round: a subquery per figure, read
    from the round's index. Counting them all in one joined query multiplies slots by judgments (a
    round of a few hundred of each joined into tens of thousands of rows per page view)."""
    counted = rows.filter(round=OuterRef("pk")).order_by().values("round").annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def project_model_choices(*, project: Project) -> list[dict[str, Any]]:
    """Model name/version pairs with responses to the project's prompts, and how many prompts each answered."""
    rows = (
        ModelResponse.objects.filter(prompt__project=project)
        .values("model_name", "model_version")
        .annotate(prompts=Count("prompt", distinct=True))
        .order_by("model_name", "model_version")
    )
    return [{"name": r["model_name"], "version": r["model_version"], "prompts": r["prompts"]} for r in rows]


def model_responses_of(
    *, prompts: QuerySet[Prompt] | Iterable[Prompt | int], spec: dict[str, str]
) -> QuerySet[ModelResponse]:
    """The responses of one compared model (`{"name", "version"}`; "" for any version) to `prompts`."""
    responses = ModelResponse.objects.filter(prompt__in=prompts, model_name=spec["name"])
    if spec["version"]:
        responses = responses.filter(model_version=spec["version"])
    return responses


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
