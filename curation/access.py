"""The one way a view or endpoint gets a curation object from user input, with who-may-do-what decided here.

Objects the user may not see answer 404 (their existence is not revealed); objects they may see but
not change answer 403.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.models import User
from curation.models import Project, SeedTask

from .selectors import projects_visible_to


def access_project(*, user: User, slug: str) -> Project:
    project = projects_visible_to(user=user).filter(slug=slug).first()
    if project is None:
        raise Http404("No such project")
    return project


def access_task(*, user: User, task_id: int, project: Project | None = None) -> SeedTask:
    tasks = SeedTask.objects.select_related("project", "topic", "view", "task_type").filter(
        project__in=projects_visible_to(user=user)
    )
    if project is not None:
        tasks = tasks.filter(project=project)
    task = tasks.filter(pk=task_id).first()
    if task is None:
        raise Http404("No such task")
    return task


def access_task_for_edit(*, user: User, task_id: int, project: Project | None = None) -> SeedTask:
    """Members of the project (clinicians included) and curators may edit a task's content."""
    return access_task(user=user, task_id=task_id, project=project)


def require_curator(*, user: User) -> None:
    if not (user.is_authenticated and user.is_curator):
        raise PermissionDenied("Only curators and admins may do this.")
