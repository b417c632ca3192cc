"""Reads of projects: which a user may see, and the figures each role's home shows about them."""

from django.db.models import Count, Q, QuerySet

from accounts.models import User
from curation.models import (
    BLOCKING_FLAG_KINDS,
    AssignmentCount,
    EvaluationRound,
    ImportJob,
    ImportStatus,
    ItemFlag,
    Project,
    Release,
    ReleaseStatus,
    RoundSlot,
    RoundStatus,
    SeedTaskCount,
)

IMPORTS_RUNNING = (ImportStatus.QUEUED, ImportStatus.VALIDATING, ImportStatus.WRITING)
RELEASES_RUNNING = (ReleaseStatus.QUEUED, ReleaseStatus.RUNNING)


def projects_visible_to(*, user: User) -> QuerySet[Project]:
    """Curators and admins see every project; clinicians see the projects they are members of."""
    if not user.is_authenticated:
        return Project.objects.none()
    if user.is_curator:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user)


def projects_with_my_queue(*, user: User) -> list[Project]:
    """Visible projects that are not archived, each with `task_count`, `my_pending` and `my_done`, for the dashboard.

    Three queries whatever the size: the projects, then the kept counts (SeedTaskCount per project, the
    user's AssignmentCount per project), one row per project each. Counting the tasks took 1.2 s at a
    million tasks; counting both in one joined query took minutes at 50,000.
    """
    projects = list(projects_visible_to(user=user).filter(archived_at__isnull=True))
    ids = [p.pk for p in projects]
    tasks = dict(SeedTaskCount.objects.filter(project_id__in=ids).values_list("project_id", "tasks"))
    mine = {
        project_id: (pending, done)
        for project_id, pending, done in AssignmentCount.objects.filter(reviewer=user, project_id__in=ids).values_list(
            "project_id", "pending", "done"
        )
    }
    for project in projects:
        project.task_count = tasks.get(project.pk, 0)
        project.my_pending, project.my_done = mine.get(project.pk, (0, 0))
    return projects


def _per_project(queryset: QuerySet, ids: list[int], project_field: str = "project_id") -> dict[int, int]:
    """One GROUP BY over `queryset`: how many rows each of the projects `ids` has."""
    rows = (
        queryset.filter(**{f"{project_field}__in": ids}).order_by().values_list(project_field).annotate(n=Count("pk"))
    )
    return dict(rows)


def projects_for_curators(*, projects: list[Project]) -> list[Project]:
    """The dashboard projects (from `projects_with_my_queue`), each with what waits on curators:
    `open_flags` (unsafe and PHI, the attention list's), `imports_running`, `releases_running`,
    `judging_done`/`judging_total` over the project's open evaluation rounds.

    Four queries whatever the size, one aggregate per figure, each filtered by the project's key and
    never joined to another counted table: flags by project; import jobs and releases by project and
    status; round slots by round (the round-reviewer index) with their judgment, one row per slot.
    """
    ids = [p.pk for p in projects]
    flags = _per_project(ItemFlag.objects.filter(kind__in=BLOCKING_FLAG_KINDS, cleared_at__isnull=True), ids)
    imports = _per_project(ImportJob.objects.filter(status__in=IMPORTS_RUNNING), ids)
    releases = _per_project(Release.objects.filter(status__in=RELEASES_RUNNING), ids)
    judging = {
        project_id: (total, done)
        for project_id, total, done in RoundSlot.objects.filter(
            round__project_id__in=ids, round__status=RoundStatus.FROZEN
        )
        .order_by()
        .values_list("round__project_id")
        .annotate(total=Count("pk"), done=Count("pk", filter=Q(judgment__isnull=False)))
    }
    for project in projects:
        project.open_flags = flags.get(project.pk, 0)
        project.imports_running = imports.get(project.pk, 0)
        project.releases_running = releases.get(project.pk, 0)
        project.judging_total, project.judging_done = judging.get(project.pk, (0, 0))
    return projects


def rounds_to_judge(*, user: User, project: Project | None = None) -> list[EvaluationRound]:
    """The open evaluation rounds `user` is a reviewer in (in `project`, or in any not archived), each
    with `my_left` (judgments still to make), `my_done` and `my_total`.

    Two queries whatever the size: the rounds, then the user's slots grouped by round, read from the
    (round, reviewer, position) index.
    """
    rounds = EvaluationRound.objects.filter(reviewers=user, status=RoundStatus.FROZEN).select_related("project")
    where = {"project": project} if project is not None else {"project__archived_at__isnull": True}
    rounds = rounds.filter(**where)
    rounds = list(rounds.order_by("project__name", "-frozen_at", "-pk"))
    counts = {
        round_id: (total, left)
        for round_id, total, left in RoundSlot.objects.filter(round_id__in=[r.pk for r in rounds], reviewer=user)
        .order_by()
        .values_list("round_id")
        .annotate(total=Count("pk"), left=Count("pk", filter=Q(judgment__isnull=True)))
    }
    for evaluation_round in rounds:
        evaluation_round.my_total, evaluation_round.my_left = counts.get(evaluation_round.pk, (0, 0))
        evaluation_round.my_done = evaluation_round.my_total - evaluation_round.my_left
    return rounds
