from django.db import models

from curation.models.projects import Project


class ComputationKind(models.TextChoices):
    AGREEMENT = "agreement", "Agreement"
    DISAGREEMENTS = "disagreements", "Disagreements"
    ROUND_RESULTS = "round_results", "Round results"


class ComputationStatus(models.TextChoices):
    IDLE = "idle", "Idle"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    FAILED = "failed", "Failed"


class Computation(models.Model):
    """The last result of a computation that reads a whole project (or a whole round), and the state
    of the next one. A worker computes it (curation.services.computations); pages only read it.

    `data_version` names the data the shown result saw (the latest review id, flag id, ...); the
    feature compares it with the current one to say whether the result is stale. `generation` is the
    run whose result is shown: rows derived from a run (curation.models.adjudication.DisputedItem)
    carry the run's number, so a new run's rows replace the old ones in one step.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="computations")
    kind = models.CharField(max_length=32, choices=ComputationKind.choices)
    # The round of round results; 0 for what covers the whole project.
    subject_id = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=ComputationStatus.choices, default=ComputationStatus.IDLE)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True, help_text="When the shown result was computed")
    data_version = models.CharField(max_length=200, blank=True)
    # Bumped by what changes the result without a new review (a flag cleared, a rule changed).
    changes = models.PositiveIntegerField(default=0)
    runs = models.PositiveIntegerField(default=0, help_text="Runs started, the number of the latest")
    generation = models.PositiveIntegerField(default=0, help_text="The run whose result is shown")
    result = models.JSONField(null=True, blank=True)
    # What the feature's page shows by default, shaped from the result by the same run: a page reads this
    # (a few rows) rather than the whole result (1.7 MB for the agreement of 300 reviewers). None where the
    # feature stores none, or for a result published before it did.
    page = models.JSONField(null=True, blank=True, help_text="The page's figures, shaped from the result")
    summary = models.JSONField(default=dict, blank=True, help_text="The few figures the dashboard shows")
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "kind", "subject_id"], name="one_computation_per_subject")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.project_id}/{self.subject_id}"
