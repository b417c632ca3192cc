"""Reads for evaluation rounds."""

from django.db.models import Count, Q, QuerySet

from accounts.models import User
from curation.models import EvaluationRound, Project


def rounds_visible_to(*, user: User, project: Project) -> QuerySet[EvaluationRound]:
    """The project's rounds a user may open (all of them for curators, the ones they review otherwise),
    with the user's own progress and the round's."""
    rounds = EvaluationRound.objects.filter(project=project)
    if not user.is_curator:
        rounds = rounds.filter(reviewers=user)
    mine = Q(slots__reviewer=user)
    return rounds.annotate(
        slot_count=Count("slots", distinct=True),
        judgment_count=Count("judgments", distinct=True),
        my_slots=Count("slots", filter=mine, distinct=True),
        my_done=Count("slots", filter=mine & Q(slots__judgment__isnull=False), distinct=True),
    ).order_by("-created_at", "-pk")
