"""Reads of a project's members for the Members page."""

from django.db.models import Count, Q, QuerySet

from accounts.models import User
from curation.models import Assignment, AssignmentStatus, Project, Review


def members_of(*, project: Project) -> list[dict]:
    """Each member with their open assignments and current reviews in the project: three queries whatever the
    size (the counts are grouped by reviewer, not joined onto the members)."""
    people = list(User.objects.filter(memberships__project=project).order_by("name", "email"))
    open_counts = dict(
        Assignment.objects.filter(project=project, status=AssignmentStatus.PENDING)
        .values("reviewer")
        .annotate(n=Count("id"))
        .values_list("reviewer", "n")
    )
    review_counts = dict(
        Review.objects.filter(project=project, is_current=True)
        .values("reviewer")
        .annotate(n=Count("id"))
        .values_list("reviewer", "n")
    )
    return [
        {"user": person, "open": open_counts.get(person.pk, 0), "reviews": review_counts.get(person.pk, 0)}
        for person in people
    ]


def members_addable(*, project: Project) -> QuerySet[User]:
    """Active people who are not members yet: clinicians to review, curators to help run the project."""
    return User.objects.filter(is_active=True).exclude(Q(memberships__project=project)).order_by("name", "email")
