"""Reads. Each returns a QuerySet with the joins its pages need, so page query counts stay flat."""

from django.db.models import Count, Max, Q, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf

from accounts.models import User
from curation.models import AssignmentStatus, Project, Review, SeedTask


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


def seed_tasks_of(*, project: Project) -> QuerySet[SeedTask]:
    return SeedTask.objects.filter(project=project).select_related("topic", "view", "task_type")


def seed_task_history(*, task: SeedTask) -> list[dict]:
    """The task's revisions, newest first, each with who, when, why and the fields it changed (old -> new)."""
    records = list(task.history.select_related("history_user").order_by("-history_id"))
    revisions = []
    for newer, older in zip(records, [*records[1:], None], strict=True):
        changes = []
        if older is not None:
            delta = newer.diff_against(older, foreign_keys_are_objs=False)
            changes = [
                {"field": change.field, "old": change.old, "new": change.new}
                for change in delta.changes
                if change.field not in ("version", "topic", "view", "task_type")
            ]
        revisions.append(
            {
                "version": newer.version,
                "user": newer.history_user,
                "at": newer.history_date,
                "rationale": newer.history_change_reason or "",
                "kind": {"+": "created", "~": "edited", "-": "deleted"}[newer.history_type],
                "changes": changes,
            }
        )
    return revisions


def _first_of(*names: str):
    """The first non-empty of several text columns: the linked vocabulary term, else the raw label."""
    return Coalesce(*(NullIf(name, Value("")) for name in names))


AGREEMENT_REVIEW_COLUMNS = (
    "id",
    "schema_id",
    "reviewer_id",
    "seed_task_id",
    "response_id",
    "answers",
    "topic",
    "view",
    "task_type",
    "difficulty",
)


def agreement_reviews_of(*, project: Project) -> QuerySet:
    """The project's current reviews as tuples of AGREEMENT_REVIEW_COLUMNS, with each item's slices.

    A review of a model response takes its topic, view, type and difficulty from the seed task the
    response answers (or the test prompt's difficulty).
    """
    return (
        Review.objects.filter(project=project, is_current=True)
        .annotate(
            topic=_first_of(
                "seed_task__topic__name",
                "seed_task__topic_raw",
                "response__seed_task__topic__name",
                "response__seed_task__topic_raw",
            ),
            view=_first_of(
                "seed_task__view__name",
                "seed_task__view_raw",
                "response__seed_task__view__name",
                "response__seed_task__view_raw",
            ),
            task_type=_first_of(
                "seed_task__task_type__name",
                "seed_task__task_type_raw",
                "response__seed_task__task_type__name",
                "response__seed_task__task_type_raw",
            ),
            difficulty=Coalesce(
                "seed_task__difficulty", "response__seed_task__difficulty", "response__prompt__difficulty"
            ),
        )
        .order_by("id")
        .values_list(*AGREEMENT_REVIEW_COLUMNS)
    )


def review_state_of(*, project: Project) -> tuple[int, int]:
    """(latest review id, number of current reviews): changes whenever a review is submitted or removed."""
    state = Review.objects.filter(project=project).aggregate(
        latest=Max("id"), current=Count("id", filter=Q(is_current=True))
    )
    return state["latest"] or 0, state["current"]
