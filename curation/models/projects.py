from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


class ReviewVisibility(models.TextChoices):
    AFTER_ADJUDICATION = "after_adjudication", "Nothing until the item is adjudicated"
    AFTER_SUBMIT = "after_submit", "Other reviews of an item once I have submitted mine"


class TaskEditors(models.TextChoices):
    MEMBERS = "members", "Any member of the project"
    ASSIGNED = "assigned", "Curators and the reviewers assigned to the task or its responses"


class AcceptedTaskEdits(models.TextChoices):
    # An accepted task is in the dataset as the revision a curator accepted; a later revision is unreviewed.
    REOPEN = "reopen", "An edit returns the task to review"
    REFUSE = "refuse", "Accepted tasks cannot be edited"


class Project(models.Model):
    """A curation effort: its guidelines, its members and the rating forms its reviewers fill in."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    guidelines = models.TextField(blank=True, help_text="Markdown shown to reviewers")
    guidelines_version = models.PositiveIntegerField(default=1)
    review_visibility = models.CharField(
        max_length=32,
        choices=ReviewVisibility.choices,
        default=ReviewVisibility.AFTER_ADJUDICATION,
        help_text="What a reviewer may see of others' reviews after submitting their own",
    )
    # The same bounds as the assign page and the API's k: from one reviewer to twenty.
    reviewers_per_item = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="k: reviewers per item",
    )
    task_editors = models.CharField(
        max_length=16,
        choices=TaskEditors.choices,
        default=TaskEditors.MEMBERS,
        help_text="Who may edit a seed task's content",
    )
    accepted_task_edits = models.CharField(
        max_length=16,
        choices=AcceptedTaskEdits.choices,
        default=AcceptedTaskEdits.REOPEN,
        help_text="What editing an accepted task does",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="projects", blank=True
    )
    seed_schema = models.ForeignKey(
        "RatingSchema",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The form reviewers fill in for a seed task",
    )
    response_schema = models.ForeignKey(
        "RatingSchema",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The form reviewers fill in for a model response",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(
        null=True, blank=True, help_text="When set, the project takes no new assignments or imports; it stays readable"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def check_open(self, *, doing: str) -> None:
        """Refuse `doing` (e.g. "new assignments") on an archived project, saying how to reopen it."""
        if self.archived_at is not None:
            raise ValidationError(
                f"{self.name} is archived and takes no {doing}; a curator can unarchive it from its settings."
            )


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="one_membership_per_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.project}"
