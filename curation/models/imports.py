from django.conf import settings
from django.db import models
from django.utils import timezone

from curation.models.projects import Project


class ImportFormat(models.TextChoices):
    ALPACARE_SEED = "alpacare_seed", "AlpaCare seed tasks (JSON array)"
    MEDINSTRUCT_TEST = "medinstruct_test", "MedInstruct test set with reference answers (JSONL)"
    MODEL_OUTPUTS = "model_outputs", "Model outputs for test prompts (JSON array)"
    ALPACA = "alpaca", "Alpaca instruction data (JSON or JSONL)"
    CHAT = "chat", "Chat messages (JSONL)"
    CSV = "csv", "CSV with a header row"
    OUTPUTS_WITH_PROMPTS = "outputs_with_prompts", "Model outputs that carry their own prompts"
    ALPACA_EVAL = "alpaca_eval", "AlpacaEval-style outputs with a reference answer"
    PROMPT_RESPONSE = "prompt_response", "Prompt/response pairs (Human:/Assistant: turns)"


class ImportStatus(models.TextChoices):
    PREVIEW = "preview", "Waiting for confirmation"
    QUEUED = "queued", "Queued"
    VALIDATING = "validating", "Validating"
    WRITING = "writing", "Writing"
    SUCCEEDED = "succeeded", "Imported"
    FAILED = "failed", "Refused: problems found"
    DUPLICATE = "duplicate", "Already imported"
    ERROR = "error", "Stopped by an internal error"


class ImportJob(models.Model):
    """One file brought into a project: its progress while it runs and its report afterwards.

    `problems` keeps the first 100 problems found (line, field, reason); `problem_count` counts all.
    A file with any problem writes nothing.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    file = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    file_name = models.CharField(max_length=500)
    file_size = models.BigIntegerField(default=0)
    file_hash = models.CharField(max_length=64, db_index=True, blank=True)
    format = models.CharField(max_length=32, choices=ImportFormat.choices, blank=True)
    model_name = models.CharField(max_length=200, blank=True, help_text="For model-output files")
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    records_total = models.PositiveIntegerField(default=0)
    records_validated = models.PositiveIntegerField(default=0)
    records_written = models.PositiveIntegerField(default=0)
    records_skipped = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list, blank=True)
    problem_count = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Updated as the job works: a running job whose heartbeat stops was left by a worker that died.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # What the person chose: a column mapping, unknown fields accepted, duplicate answers allowed.
    options = models.JSONField(default=dict, blank=True)
    # When the search documents of the seed tasks it wrote were built (a job after the import, on
    # PostgreSQL): until then those tasks are not found by search, and the task list says so.
    search_indexed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import {self.pk}: {self.file_name} ({self.status})"
