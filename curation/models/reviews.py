from django.conf import settings
from django.db import models
from django.utils import timezone

from curation.models.assignments import ONE_ITEM, Assignment
from curation.models.projects import Project
from curation.models.responses import ModelResponse
from curation.models.schemas import RatingSchema
from curation.models.seed_tasks import SeedTask


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
        # A project's latest review id says whether a result computed from its reviews is stale.
        indexes = [models.Index(fields=["project", "id"], name="review_project_id")]
        constraints = [
            models.CheckConstraint(condition=ONE_ITEM, name="review_is_for_one_item"),
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


class ReviewDraft(models.Model):
    """A reviewer's unsubmitted answers, saved as they type so a reload or a dropped connection loses nothing.

    Visible to its author only: never to other reviewers, curators' queues or the API of anyone else.
    """

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="draft")
    answers = models.JSONField(default=dict, blank=True)
    corrected_text = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Draft for {self.assignment}"
