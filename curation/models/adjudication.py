from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from curation.models.projects import Project
from curation.models.responses import ModelResponse
from curation.models.reviews import Review
from curation.models.schemas import RatingSchema
from curation.models.seed_tasks import SeedTask

_ONE_ITEM = models.Q(seed_task__isnull=False, response__isnull=True) | models.Q(
    seed_task__isnull=True, response__isnull=False
)


class DisagreementRule(models.TextChoices):
    ANY = "any", "Any disagreement on a rated field"
    SPREAD = "spread", "Scales apart by at least the minimum spread; choices that differ"
    SAFETY = "safety", "Safety flags only"


class AdjudicationSettings(models.Model):
    """How a project decides which items need a curator, and whether a disagreement earns one more reviewer.

    A project without a row uses the defaults below (see curation.selectors.adjudication.adjudication_settings_of).
    A safety flag (unsafe or PHI) sends an item to the queue under every rule.
    """

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="adjudication_settings")
    rule = models.CharField(max_length=16, choices=DisagreementRule.choices, default=DisagreementRule.SPREAD)
    min_spread = models.PositiveSmallIntegerField(
        default=2, help_text="Under the spread rule: how far apart two ratings on a scale must be"
    )
    dynamic_overlap = models.BooleanField(
        default=False, help_text="When the first k reviewers disagree, ask one more reviewer"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "adjudication settings"
        constraints = [models.CheckConstraint(condition=models.Q(min_spread__gte=1), name="min_spread_at_least_1")]

    def __str__(self) -> str:
        return f"Adjudication settings of {self.project}"


class DisputedItem(models.Model):
    """One item in dispute under one rating form, as the project's last disagreement computation found it.

    Derived data: a worker replaces a project's rows with every run (`generation`, see
    curation.models.computations.Computation) and the queue pages and API read them a page at a time
    in `position` order (1 is the most severe). A gold label saved since marks its row settled at once.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    generation = models.PositiveIntegerField()
    position = models.PositiveIntegerField(null=True, help_text="Set once the run has found every item")
    schema = models.ForeignKey(RatingSchema, on_delete=models.CASCADE, related_name="+")
    seed_task = models.ForeignKey(SeedTask, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    response = models.ForeignKey(ModelResponse, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    # The queue's order: safety first, then the widest disagreement, the most fields, the oldest item.
    safety = models.BooleanField()
    severity = models.FloatField()
    n_fields = models.PositiveSmallIntegerField()
    item_id = models.PositiveBigIntegerField()
    level = models.CharField(max_length=16)
    reasons = models.JSONField(default=list)
    safety_reasons = models.JSONField(default=list)
    fields = models.JSONField(default=list, help_text="Per field in dispute: key, label, values, spread, severity")
    review_ids = models.JSONField(default=list)
    gold_version = models.PositiveIntegerField(null=True, blank=True)
    settled = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=_ONE_ITEM, name="disputed_item_is_for_one_item"),
            models.UniqueConstraint(fields=["project", "generation", "position"], name="one_disputed_item_per_place"),
        ]

    def __str__(self) -> str:
        return f"Disputed {self.item_name} under form {self.schema_id}"

    @property
    def item_type(self) -> str:
        return "seed_task" if self.seed_task_id else "response"

    @property
    def item_name(self) -> str:
        return f"task {self.seed_task_id}" if self.seed_task_id else f"response {self.response_id}"


class ReasonCode(models.TextChoices):
    GUIDELINE_GAP = "guideline_gap", "Guideline gap"
    CLINICAL_AMBIGUITY = "clinical_ambiguity", "Clinical ambiguity"
    REVIEWER_ERROR = "reviewer_error", "Reviewer error"
    OTHER = "other", "Other"


class GoldLabel(models.Model):
    """A curator's settled answer for one item under one rating form.

    The raw reviews it settled stay as they were and are linked in `reviews`; `soft_label` keeps how
    the reviewers rated each field (counts per value), so the disagreement survives the decision.
    `version` increases on every re-adjudication: a save names the version it started from.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="gold_labels")
    schema = models.ForeignKey(RatingSchema, on_delete=models.PROTECT, related_name="gold_labels")
    seed_task = models.ForeignKey(SeedTask, on_delete=models.CASCADE, null=True, blank=True, related_name="gold_labels")
    response = models.ForeignKey(
        ModelResponse, on_delete=models.CASCADE, null=True, blank=True, related_name="gold_labels"
    )
    values = models.JSONField(default=dict, help_text="The final value of each field, keyed by field")
    final_text = models.TextField(blank=True, default="", help_text="The settled text; blank keeps the original")
    reason = models.CharField(max_length=32, choices=ReasonCode.choices)
    note = models.TextField(blank=True)
    soft_label = models.JSONField(default=dict, help_text="Per field: how many reviewers gave each value")
    reviews = models.ManyToManyField(Review, related_name="gold_labels", blank=True)
    adjudicated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords(cascade_delete_history=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=_ONE_ITEM, name="gold_label_is_for_one_item"),
            models.UniqueConstraint(
                fields=["seed_task", "schema"],
                condition=models.Q(seed_task__isnull=False),
                name="one_gold_label_per_task_and_schema",
            ),
            models.UniqueConstraint(
                fields=["response", "schema"],
                condition=models.Q(response__isnull=False),
                name="one_gold_label_per_response_and_schema",
            ),
        ]

    def __str__(self) -> str:
        return f"Gold label v{self.version} for {self.seed_task or self.response}"


class AcceptanceAction(models.TextChoices):
    ACCEPT = "accepted", "Accept"
    REJECT = "rejected", "Reject"


class AcceptanceMode(models.TextChoices):
    SINGLE = "single", "One item"
    FILTER = "filter", "In bulk, by filter"


class AcceptanceEvent(models.Model):
    """One curator decision to accept or reject seed tasks for the dataset.

    Each task's own history also records the status change (made through seed_task_set_status, with
    this event's number in the reason); this row keeps the decision as a whole: who, when, the filter
    used and exactly which tasks changed.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="acceptance_events")
    action = models.CharField(max_length=16, choices=AcceptanceAction.choices)
    mode = models.CharField(max_length=16, choices=AcceptanceMode.choices)
    filter_params = models.JSONField(default=dict, blank=True, help_text="The filter a bulk decision used")
    rationale = models.TextField(blank=True)
    tasks = models.ManyToManyField(SeedTask, related_name="acceptance_events", blank=True)
    task_count = models.PositiveIntegerField(default=0)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.task_count} task(s) ({self.get_mode_display()})"
