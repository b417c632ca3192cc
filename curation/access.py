"""The one way a view or endpoint gets a curation object from user input, with who-may-do-what decided here.

Objects the user may not see answer 404 (their existence is not revealed); objects they may see but
not change answer 403.
"""

from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from accounts.models import User
from curation.models import (
    Assignment,
    ImportJob,
    ItemFlag,
    ModelResponse,
    Project,
    Prompt,
    Rubric,
    RubricStatus,
    SeedTask,
)
from curation.models.phi import PhiFinding
from curation.models.releases import Release
from curation.models.rounds import EvaluationRound, RoundSlot
from curation.selectors.projects import projects_visible_to
from curation.selectors.seed_tasks import seed_task_editable_by


def access_project(*, user: User, slug: str) -> Project:
    project = projects_visible_to(user=user).filter(slug=slug).first()
    if project is None:
        raise Http404("No such project")
    return project


def access_project_as_curator(*, user: User, slug: str) -> Project:
    """A project's curation pages: 404 to whoever cannot see the project (its existence is not revealed),
    403 to its members who are not curators or admins. The gates below name why each page is curators'."""
    project = access_project(user=user, slug=slug)
    require_curator(user=user)
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
    """A task the user may edit under its project's `task_editors` setting (403 otherwise; the edit
    service checks the same rule)."""
    task = access_task(user=user, task_id=task_id, project=project)
    if not seed_task_editable_by(task=task, user=user):
        raise PermissionDenied("In this project only curators and the reviewers assigned to a task may edit it.")
    return task


def require_curator(*, user: User, doing: str = "do this") -> None:
    """The curators' gate, for pages and for the services they call: `doing` names the refused action."""
    if not (user and user.is_authenticated and user.is_curator):
        raise PermissionDenied(f"Only curators and admins may {doing}.")


def access_assignment(*, user: User, assignment_id: int, project: Project) -> Assignment:
    """A reviewer's own assignment in the project, with its project's rating forms. Anyone else's answers
    404, curators' included: the workspace is the reviewer's own and shows their draft. A page that shows
    the item reads it with curation.selectors.reviews.assignment_item_loaded."""
    assignment = (
        Assignment.objects.select_related("project__seed_schema", "project__response_schema")
        .filter(pk=assignment_id, project=project, reviewer=user)
        .first()
    )
    if assignment is None:
        raise Http404("No such assignment")
    return assignment


def access_assignments(*, user: User, slug: str) -> Project:
    """The project whose work a user may hand out: curators and admins (404 if unseen, 403 otherwise)."""
    return access_project_as_curator(user=user, slug=slug)


def access_flag_for_clear(*, user: User, flag_id: int, project: Project) -> ItemFlag:
    require_curator(user=user)
    flag = ItemFlag.objects.filter(pk=flag_id, project=project).first()
    if flag is None:
        raise Http404("No such flag")
    return flag


def access_phi_queue(*, user: User, slug: str) -> Project:
    """A project's PHI queue: curators and admins (404 to outsiders, 403 to its clinicians)."""
    return access_project_as_curator(user=user, slug=slug)


def access_phi_finding(*, user: User, finding_id: int, project: Project) -> PhiFinding:
    require_curator(user=user)
    finding = PhiFinding.objects.filter(pk=finding_id, project=project).first()
    if finding is None:
        raise Http404("No such finding")
    return finding


def can_make_releases(user: User) -> bool:
    """Admins, and curators granted the `curation.make_release` permission, build and download releases."""
    if not user.is_authenticated:
        return False
    return user.is_admin or (user.is_curator and _granted_make_release(user))


def _granted_make_release(user: User) -> bool:
    """What user.has_perm("curation.make_release") answers under AUTHENTICATION_BACKENDS (ModelBackend, and
    allauth's, which is one): an active superuser, or the permission granted to the user or to one of their
    groups. has_perm reads all the user's permissions and then all their groups' (two queries) on every
    page that draws the Releases link; this asks for the one permission in one. Kept on the user object
    for the request, as has_perm keeps its own, so that a page that checks twice asks once."""
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    granted = getattr(user, "_make_release_granted", None)
    if granted is None:
        granted = (
            Permission.objects.filter(content_type__app_label="curation", codename="make_release")
            .filter(Q(user=user) | Q(group__user=user))
            .exists()
        )
        user._make_release_granted = granted
    return granted


def access_releases(*, user: User, slug: str) -> Project:
    """The project whose releases the user may list, create and download (404 if unseen, 403 if not allowed)."""
    project = access_project(user=user, slug=slug)
    if not can_make_releases(user):
        raise PermissionDenied("Only admins and curators with the release permission may see releases.")
    return project


def access_release(*, user: User, release_id: int, project: Project) -> Release:
    """One release of a project the caller got from access_releases; the permission is checked again here
    so that no path reaches a release's files without it."""
    if not can_make_releases(user):
        raise PermissionDenied("Only admins and curators with the release permission may see releases.")
    release = Release.objects.select_related("created_by").filter(pk=release_id, project=project).first()
    if release is None:
        raise Http404("No such release")
    return release


def access_project_agreement(*, user: User, slug: str) -> Project:
    """Agreement figures reveal how reviewers answered, so only curators and admins see them (blind review)."""
    return access_project_as_curator(user=user, slug=slug)


def access_imports(*, user: User, slug: str) -> Project:
    """The project a user may import into and whose import jobs they may see: curators and admins.

    A project the user cannot see answers 404; a member who is not a curator gets 403.
    """
    return access_project_as_curator(user=user, slug=slug)


def access_import_job(*, user: User, job_id: int, project: Project) -> ImportJob:
    """One import job of a project the caller got from access_imports (the curator check is repeated here)."""
    require_curator(user=user)
    job = ImportJob.objects.select_related("project", "created_by").filter(pk=job_id, project=project).first()
    if job is None:
        raise Http404("No such import")
    return job


def access_project_for_adjudication(*, user: User, slug: str) -> Project:
    """Adjudication and dataset decisions are for curators and admins. A project the user cannot see
    answers 404 (its existence is not revealed); a member who is not a curator gets 403."""
    return access_project_as_curator(user=user, slug=slug)


def access_item_for_adjudication(
    *, user: User, project: Project, task_id: int | None = None, response_id: int | None = None
):
    """The seed task or model response being adjudicated, which must belong to `project`."""
    from django.db.models import Q

    from curation.models import ModelResponse

    require_curator(user=user)
    if task_id is not None:
        item = SeedTask.objects.select_related("topic").filter(pk=task_id, project=project).first()
    else:
        item = (
            ModelResponse.objects.select_related("seed_task__topic", "prompt")
            .filter(Q(seed_task__project=project) | Q(prompt__project=project), pk=response_id)
            .first()
        )
    if item is None:
        raise Http404("No such item")
    return item


def access_vocabulary(*, user: User, slug: str) -> Project:
    """Vocabulary terms are shared by every project; curators and admins map and merge them from a project's page."""
    return access_project_as_curator(user=user, slug=slug)


def access_round(*, user: User, project: Project, round_id: int) -> EvaluationRound:
    """Curators see every round of the project; a clinician sees only the rounds they review."""
    rounds = EvaluationRound.objects.select_related("project", "schema").filter(project=project, pk=round_id)
    if not user.is_curator:
        rounds = rounds.filter(reviewers=user)
    evaluation_round = rounds.first()
    if evaluation_round is None:
        raise Http404("No such round")
    return evaluation_round


def access_round_for_curation(*, user: User, project: Project, round_id: int) -> EvaluationRound:
    """Setup, freezing and results (which name the models) are for curators and admins only."""
    evaluation_round = access_round(user=user, project=project, round_id=round_id)
    require_curator(user=user)
    return evaluation_round


def access_round_slot(*, user: User, evaluation_round: EvaluationRound, slot_id: int) -> RoundSlot:
    """A reviewer's own scheduled item; anyone else's answers 404."""
    slot = (
        RoundSlot.objects.select_related("round__schema", "item__prompt", "left_response", "right_response")
        .filter(round=evaluation_round, reviewer=user, pk=slot_id)
        .first()
    )
    if slot is None:
        raise Http404("No such item")
    return slot


def access_rubric_results(*, user: User, slug: str) -> Project:
    """Rubric results, judges and agreement name the models and reveal how clinicians graded (blind
    grading): curators and admins only. A project the user cannot see answers 404."""
    return access_project_as_curator(user=user, slug=slug)


def access_rubric(*, user: User, project: Project, rubric_id: int) -> Rubric:
    """A rubric of a project the user got from access_project: members write, review and edit rubrics."""
    rubric = Rubric.objects.select_related("prompt", "project").filter(project=project, pk=rubric_id).first()
    if rubric is None:
        raise Http404("No such rubric")
    return rubric


def access_response_for_grading(*, user: User, project: Project, response_id: int) -> ModelResponse:
    """A response to a prompt of the project with an accepted rubric; any member may grade it, blind."""
    response = (
        ModelResponse.objects.select_related("prompt__rubric")
        .filter(prompt__rubric__project=project, prompt__rubric__status=RubricStatus.ACCEPTED, pk=response_id)
        .first()
    )
    if response is None:
        raise Http404("No such response to grade")
    return response


def access_prompt(*, user: User, project: Project, prompt_id: int) -> Prompt:
    """A test prompt of a project the user got from access_project (members write its rubric)."""
    prompt = Prompt.objects.select_related("rubric").filter(project=project, pk=prompt_id).first()
    if prompt is None:
        raise Http404("No such prompt")
    return prompt


def access_member(*, user: User, project: Project, user_id: int) -> User:
    """A member of `project`, for a curator to take off it; anyone else answers 404."""
    require_curator(user=user)
    member = User.objects.filter(pk=user_id, memberships__project=project).first()
    if member is None:
        raise Http404("No such member of this project")
    return member


def access_project_settings(*, user: User, slug: str) -> Project:
    """A project's settings, archiving and rating forms are for curators and admins. A project the user
    cannot see answers 404; a member who is not a curator gets 403. Archived projects stay reachable here,
    so they can be unarchived."""
    return access_project_as_curator(user=user, slug=slug)
