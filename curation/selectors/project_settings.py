"""Reads for the project settings pages: archived projects, and projects a new one may copy its forms from."""

from django.db.models import QuerySet

from accounts.models import User
from curation.models import Project
from curation.selectors.projects import projects_visible_to


def projects_archived(*, user: User) -> QuerySet[Project]:
    return projects_visible_to(user=user).filter(archived_at__isnull=False).order_by("-archived_at")


def projects_to_copy_from(*, user: User) -> QuerySet[Project]:
    """Any project the user sees, archived ones included: a finished project's forms are a fine start."""
    return projects_visible_to(user=user).select_related("seed_schema", "response_schema").order_by("name")
