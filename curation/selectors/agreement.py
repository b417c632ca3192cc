"""Reads behind the agreement report: a project's current reviews with each item's slices."""

from django.db.models import Count, Max, Q, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf

from curation.models import Project, Review


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
    """(latest review id, number of current reviews): changes whenever a review is submitted or removed.
    Counts every current review: for jobs, not requests (reviews_latest_id is what a request reads)."""
    state = Review.objects.filter(project=project).aggregate(
        latest=Max("id"), current=Count("id", filter=Q(is_current=True))
    )
    return state["latest"] or 0, state["current"]


def reviews_latest_id(*, project: Project) -> int:
    """The id of the project's latest review, from the (project, id) index: reviews are never edited
    (a change is a new review), so a result that saw this id saw every review there is."""
    return Review.objects.filter(project=project).order_by("-id").values_list("id", flat=True).first() or 0


def agreement_data_version(*, project: Project) -> str:
    """The version of the data an agreement report covers: it changes whenever a review is submitted."""
    return f"reviews:{reviews_latest_id(project=project)}"
