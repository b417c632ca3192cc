"""Reads for assigning work."""

from django.db.models import Count

from curation.models import Assignment, AssignmentStatus, Project


def pending_counts_of(*, project: Project, reviewer_ids: list[int]) -> dict[int, int]:
    """How many pending assignments each of the reviewers has in the project (reviewers with none left out)."""
    return dict(
        Assignment.objects.filter(project=project, reviewer_id__in=reviewer_ids, status=AssignmentStatus.PENDING)
        .values_list("reviewer_id")
        .annotate(n=Count("id"))
    )
