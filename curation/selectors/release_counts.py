"""What a release definition would give if built now, before it is built: the release form's live count
of rows and, for a definition that gives none, why and what would give some."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from curation.formats.writers.releases import WRITERS
from curation.models import Project, ReleaseFormat, Review, SeedTask, TaskStatus
from curation.selectors.phi import phi_unscanned_tasks
from curation.selectors.releases import release_gate, release_scope, release_tasks

if TYPE_CHECKING:  # the definition reads through these selectors; only its type is needed here
    from curation.releases_definition import ReleaseFilters


def _reviews_of_tasks(*, project: Project, tasks: QuerySet[SeedTask]) -> QuerySet[Review]:
    return Review.objects.filter(project=project, is_current=True, seed_task__in=tasks.values("pk"))


# Past this many reviews behind the tasks, the page's count under a minimum agreement is the tasks'
# COUNT (an upper bound, labelled so) rather than a pass over every review on each change of a filter.
EXACT_AGREEMENT_COUNT_LIMIT = 20_000
# What a row is, by format: what the count counts.
ROW_UNITS = {
    ReleaseFormat.ALPACA: "tasks",
    ReleaseFormat.CHAT: "tasks",
    ReleaseFormat.PREFERENCE: "pairs",
    ReleaseFormat.REVIEWS: "reviews",
    ReleaseFormat.REVIEWS_CSV: "reviews",
    ReleaseFormat.SCORES_CSV: "reviews",
}


@dataclass(frozen=True)
class ReleaseRowCount:
    """How many rows a definition gives now: `exact`, or at most `rows` (and then `why` says why)."""

    rows: int
    unit: str
    exact: bool = True
    why: str = ""

    def __str__(self) -> str:
        amount = f"{self.rows:,} {self.unit}" if self.exact else f"at most {self.rows:,} {self.unit}"
        return f"{amount} ({self.why})" if self.why else amount


def release_row_count(*, project: Project, format: str, filters: "ReleaseFilters") -> ReleaseRowCount:
    """The rows a release of this definition would hold if built now, counted by the build's own queries
    (its writer's `count`, the build's rows_total). Bounded: COUNTs, and one pass over the reviews behind
    the tasks under a minimum agreement unless there are more than EXACT_AGREEMENT_COUNT_LIMIT of them."""
    writer = WRITERS[format]
    unit = ROW_UNITS[format]
    by_agreement = writer.streams_tasks and filters.min_agreement is not None
    scope = release_scope(
        format=format,
        salt="",
        project=project,
        filters=filters,
        streams_tasks=writer.streams_tasks,
        chunk_size=2000,
        summary=False,
    )
    # The reviews behind the tasks say whether the count passes over them.
    if by_agreement and _reviews_of_tasks(project=project, tasks=scope.tasks).count() > EXACT_AGREEMENT_COUNT_LIMIT:
        return ReleaseRowCount(scope.tasks.count(), unit, exact=False, why="the agreement minimum applies when built")
    rows = writer.count(scope)
    if format == ReleaseFormat.PREFERENCE:
        return ReleaseRowCount(rows, unit, exact=False, why="corrections that change nothing are left out when built")
    return ReleaseRowCount(rows, unit)


def release_empty_hint(*, project: Project, format: str, filters: "ReleaseFilters") -> str:
    """Why a definition gives no row, and what would give some: the message an empty release is refused with."""
    statuses = set(filters.statuses)
    if not SeedTask.objects.filter(project=project, status__in=statuses).exists():
        if statuses == {TaskStatus.ACCEPTED}:
            return (
                "no task is accepted yet: accept tasks on the Adjudication page, "
                f"or choose status={TaskStatus.IN_REVIEW.value}"
            )
        return f"no task of {project.slug} has status {', '.join(sorted(statuses))}"
    if WRITERS[format].streams_tasks and not filters.include_empty_outputs:
        without = release_tasks(project=project, filters=filters).filter(reference_output="").count()
        if without:
            return (
                f"the {without} task(s) it selects have no reference output: write their outputs, "
                "or include tasks without an output (include_empty_outputs)"
            )
    in_statuses = SeedTask.objects.filter(project=project, status__in=statuses)
    if not in_statuses.filter(*release_gate("seed_task")).exists():
        unscanned = phi_unscanned_tasks(project=project).filter(status__in=statuses).count()
        if unscanned:
            return (
                f"{unscanned} task(s) of status {', '.join(sorted(statuses))} are not scanned for PHI yet, and "
                "nothing unscanned is released: the scan runs on the worker after an import (make run starts "
                "one; make worker with a broker), or queue it on the project's PHI page, or run "
                f"manage.py phi_scan --project {project.slug}"
            )
        return (
            f"every task of status {', '.join(sorted(statuses))} is held back by an open PHI finding or an "
            "unsafe flag: clear or redact them on the PHI page, and clear the flags on the Attention page"
        )
    return "no row matches this definition: widen its filters"
