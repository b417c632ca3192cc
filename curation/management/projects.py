"""The projects a maintenance command works on: `--project SLUG`, or every project."""

from django.core.management.base import CommandError
from django.db.models import QuerySet

from curation.models import Project


def projects_chosen(slug: str | None) -> QuerySet[Project]:
    """The project named by `slug`, or every project (oldest first) without one; an unknown slug is refused."""
    projects = Project.objects.order_by("pk")
    if slug:
        projects = projects.filter(slug=slug)
        if not projects.exists():
            raise CommandError(f"No project with the slug {slug!r}.")
    return projects
