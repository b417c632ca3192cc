"""Reads of projects: which a user may see, and the dashboard's queue counts."""

from django.db.models import Count, Q, QuerySet

from accounts.models import User
from curation.models import AssignmentStatus, Project


def projects_visible_to(*, user: User) -> QuerySet[Project]:
    """Curators and admins see every project; clinicians see the projects they are members of."""
    if not user.is_authenticated:
        return Project.objects.none()
    if user.is_curator:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user)


def projects_with_my_queue(*, user: User) -> QuerySet[Project]:
    """Visible projects annotated with the user's own assignment counts, for the dashboard."""
    mine = Q(assignments__reviewer=user)
    return projects_visible_to(user=user).annotate(
        task_count=Count("seed_tasks", distinct=True),
        my_pending=Count("assignments", filter=mine & Q(assignments__status=AssignmentStatus.PENDING), distinct=True),
        my_done=Count("assignments", filter=mine & Q(assignments__status=AssignmentStatus.DONE), distinct=True),
    )
