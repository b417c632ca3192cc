"""Protected health information found in the project's texts, and the scan state of each text's owner.

A text belongs to one owner: a seed task (instruction, input, reference output), a test prompt
(instruction, input), a model response (text) or a review (corrected text, free-text answers).
A finding remembers where it was found (owner, field, revision) and what a curator decided.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from curation.models.imports import ImportJob
from curation.models.projects import Project
from curation.models.responses import ModelResponse, Prompt
from curation.models.reviews import Review
from curation.models.seed_tasks import SeedTask

EXACTLY_ONE_OWNER = (
    models.Q(seed_task__isnull=False, prompt__isnull=True, response__isnull=True, review__isnull=True)
    | models.Q(seed_task__isnull=True, prompt__isnull=False, response__isnull=True, review__isnull=True)
    | models.Q(seed_task__isnull=True, prompt__isnull=True, response__isnull=False, review__isnull=True)
    | models.Q(seed_task__isnull=True, prompt__isnull=True, response__isnull=True, review__isnull=False)
)


class PhiFindingState(models.TextChoices):
    OPEN = "open", "Open"
    CLEARED = "cleared", "Cleared as not PHI"
    REDACTED = "redacted", "Redacted"


class PhiFinding(models.Model):
    """One span the scanner took for PHI, in one field of one revision of a text.

    A finding in a review is also tied to the reviewed item (`seed_task` or `response` stays null;
    `item_task` / `item_response` name it) so the item's flag and release gate see it.
    `field` is the model field ("instruction", "text", "corrected_text") or "answers.<key>" for a
    review's free-text answer. `revision` is the seed task's or review's version, 1 for the others.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="phi_findings")
    seed_task = models.ForeignKey(SeedTask, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    response = models.ForeignKey(ModelResponse, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    review = models.ForeignKey(Review, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    # The released item the finding keeps out of releases (a review's item; the task or response itself).
    item_task = models.ForeignKey(SeedTask, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    item_response = models.ForeignKey(ModelResponse, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    field = models.CharField(max_length=100)
    revision = models.PositiveIntegerField(default=1)
    kind = models.CharField(max_length=16)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    # SHA-256 of the span's characters: a span cleared as not PHI is not raised again while it stands.
    span_hash = models.CharField(max_length=64)
    score = models.FloatField()
    recognizer = models.CharField(max_length=100)
    scanner_version = models.CharField(max_length=20)
    state = models.CharField(max_length=16, choices=PhiFindingState.choices, default=PhiFindingState.OPEN)
    reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    found_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The queue: a project's open findings in id order (keyset pages).
            models.Index(fields=["project", "state", "id"], name="phi_finding_queue"),
            models.Index(fields=["item_task", "state"], name="phi_finding_item_task"),
            models.Index(fields=["item_response", "state"], name="phi_finding_item_response"),
            models.Index(fields=["prompt", "state"], name="phi_finding_prompt"),
        ]
        constraints = [
            models.CheckConstraint(condition=EXACTLY_ONE_OWNER, name="phi_finding_has_one_owner"),
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="phi_finding_span_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} in {self.field} ({self.get_state_display()})"

    @property
    def owner(self) -> models.Model:
        return self.seed_task or self.prompt or self.response or self.review


class PhiScan(models.Model):
    """An owner's texts were scanned, as they were when their content hash was `content_hash`.

    An owner without a row, or whose content hash has changed since, is unscanned and kept out of
    releases. Reviews never change (a change is a new review), so theirs is "".
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    seed_task = models.OneToOneField(SeedTask, on_delete=models.CASCADE, null=True, blank=True, related_name="phi_scan")
    prompt = models.OneToOneField(Prompt, on_delete=models.CASCADE, null=True, blank=True, related_name="phi_scan")
    response = models.OneToOneField(
        ModelResponse, on_delete=models.CASCADE, null=True, blank=True, related_name="phi_scan"
    )
    review = models.OneToOneField(Review, on_delete=models.CASCADE, null=True, blank=True, related_name="phi_scan")
    content_hash = models.CharField(max_length=64, blank=True)
    scanner_version = models.CharField(max_length=20)
    scanned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=EXACTLY_ONE_OWNER, name="phi_scan_has_one_owner")]

    def __str__(self) -> str:
        return f"PHI scan of {self.seed_task or self.prompt or self.response or self.review} ({self.scanner_version})"


class PhiScanRunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Scanning"
    DONE = "done", "Scanned"
    FAILED = "failed", "Stopped by an error"


class PhiScanRun(models.Model):
    """A background scan of the texts an import brought (or of every unscanned text of a project)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="phi_scan_runs")
    import_job = models.ForeignKey(ImportJob, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=16, choices=PhiScanRunStatus.choices, default=PhiScanRunStatus.QUEUED)
    texts_total = models.PositiveIntegerField(default=0)
    texts_scanned = models.PositiveIntegerField(default=0)
    findings = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"PHI scan {self.pk}: {self.texts_scanned} of {self.texts_total}"
