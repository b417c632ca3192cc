"""Who is asked to review which item."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from curation.models.projects import Project
from curation.models.responses import ModelResponse
from curation.models.seed_tasks import SeedTask

ONE_ITEM = models.Q(seed_task__isnull=False, response__isnull=True) | models.Q(
    seed_task__isnull=True, response__isnull=False
)


class AssignmentStatus(models.TextChoices):
    PENDING = "pending", "To do"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"


# The review queue's order: a reviewer's items to do first, then the rest ("done" < "pending" < "skipped"
# alphabetically, so the status itself cannot order them). The queue (curation.selectors.reviews) and its
# index use this one expression, so that the database reads the queue's pages from the index.
QUEUE_RANK = models.Case(
    models.When(status=AssignmentStatus.PENDING, then=models.Value(0)),
    default=models.Value(1),
    output_field=models.IntegerField(),
)


class Assignment(models.Model):
    """One reviewer asked to review one item (a seed task or a model response)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assignments")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    seed_task = models.ForeignKey(SeedTask, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    response = models.ForeignKey(ModelResponse, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.PENDING)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["reviewer", "status"]),
            # A reviewer's queue in a project, in its order: a page is the next rows of this index, where
            # sorting the reviewer's assignments took 40 ms at 50,000 of them. (The counts that an index on
            # (reviewer, project, status) served are kept in AssignmentCount.)
            models.Index(
                models.F("reviewer"), models.F("project"), QUEUE_RANK, models.F("id"), name="assignment_queue_order"
            ),
            # "Next item": a reviewer's first pending assignment in id order, found in the index instead of
            # walking the primary key past every other reviewer's rows (3.6 s at 2.75 million assignments).
            models.Index(
                fields=["reviewer", "project", "id"],
                condition=models.Q(status="pending"),
                name="assignment_pending_queue",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=ONE_ITEM, name="assignment_is_for_one_item"),
            models.UniqueConstraint(
                fields=["reviewer", "seed_task"],
                condition=models.Q(seed_task__isnull=False),
                name="one_assignment_per_reviewer_and_task",
            ),
            models.UniqueConstraint(
                fields=["reviewer", "response"],
                condition=models.Q(response__isnull=False),
                name="one_assignment_per_reviewer_and_response",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} on {self.seed_task or self.response}"


class AssignmentCount(models.Model):
    """One reviewer's assignments in one project by status, as one row: the dashboard, the queue and the
    assign page read it instead of counting assignments (2.75 million in the scale benchmark).

    Kept in the transaction that writes the assignments by every service that adds one or changes its
    status (curation.services.assignments.assignment_counts_add); `manage.py recount` rebuilds it.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    pending = models.IntegerField(default=0)
    done = models.IntegerField(default=0)
    skipped = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "reviewer"], name="one_assignment_count_per_reviewer")
        ]

    def __str__(self) -> str:
        return f"{self.reviewer_id} in {self.project_id}: {self.pending} to do, {self.done} done"
