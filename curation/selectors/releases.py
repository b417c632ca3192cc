"""Reads for the releases pages and API."""

from django.db.models import QuerySet

from curation.models import Project, Release


def releases_of(*, project: Project) -> QuerySet[Release]:
    """A project's releases, newest first, without the card text (list views never show it)."""
    return (
        Release.objects.filter(project=project)
        .select_related("created_by", "project")
        .defer("card", "salt")
        .order_by("-created_at", "-id")
    )
