from django.conf import settings
from django.db import models
from django.utils import timezone

from .projects import Project
from .responses import ModelResponse
from .schemas import RatingSchema
from .tasks import SeedTask

_ONE_ITEM = models.Q(seed_task__isnull=False, response__isnull=True) | models.Q(
    seed_task__isnull=True, response__isnull=False
)


class AssignmentStatus(models.TextChoices):
    PENDING = "pending", "To do"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"


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
        indexes = [models.Index(fields=["reviewer", "status"])]
        constraints = [
            models.CheckConstraint(condition=_ONE_ITEM, name="assignment_is_for_one_item"),
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


class Review(models.Model):
    """One reviewer's submitted answers for one item under one schema version.

    Immutable once written: a change of mind is a new Review with `version` + 1 that `supersedes`
    the old one, which stays (with `is_current` cleared) for the audit trail and agreement history.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reviews")
    schema = models.ForeignKey(RatingSchema, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    assignment = models.ForeignKey(Assignment, on_delete=models.SET_NULL, null=True, blank=True, related_name="reviews")
    seed_task = models.ForeignKey(SeedTask, on_delete=models.CASCADE, null=True, blank=True, related_name="reviews")
    response = models.ForeignKey(ModelResponse, on_delete=models.CASCADE, null=True, blank=True, related_name="reviews")
    answers = models.JSONField(default=dict)
    corrected_text = models.TextField(blank=True, default="", help_text="A reviewer's corrected response, if any")
    version = models.PositiveIntegerField(default=1)
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    is_current = models.BooleanField(default=True)
    submission_key = models.UUIDField(
        null=True, blank=True, unique=True, help_text="Client-chosen key that makes a retried submit a no-op"
    )
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=_ONE_ITEM, name="review_is_for_one_item"),
            models.UniqueConstraint(
                fields=["reviewer", "seed_task", "schema"],
                condition=models.Q(is_current=True, seed_task__isnull=False),
                name="one_current_review_per_reviewer_task_schema",
            ),
            models.UniqueConstraint(
                fields=["reviewer", "response", "schema"],
                condition=models.Q(is_current=True, response__isnull=False),
                name="one_current_review_per_reviewer_response_schema",
            ),
        ]

    def __str__(self) -> str:
        return f"Review {self.pk} v{self.version} by {self.reviewer}"
