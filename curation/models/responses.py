from django.db import models
from django.utils import timezone

from curation.models.projects import Project
from curation.models.seed_tasks import SeedTask


class Prompt(models.Model):
    """A test instruction that models answer (e.g. one of the 216 MedInstruct test prompts)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="prompts")
    external_id = models.CharField(max_length=200, blank=True)
    instruction = models.TextField()
    input = models.TextField(blank=True, default="")
    difficulty = models.PositiveSmallIntegerField(null=True, blank=True)
    origin_file = models.CharField(max_length=500, blank=True)
    origin_line = models.PositiveIntegerField(null=True, blank=True)
    import_job = models.ForeignKey(
        "ImportJob", on_delete=models.SET_NULL, null=True, blank=True, related_name="prompts"
    )
    content_hash = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "external_id"],
                condition=~models.Q(external_id=""),
                name="prompt_external_id_unique_in_project",
            ),
            models.CheckConstraint(
                condition=models.Q(difficulty__isnull=True) | models.Q(difficulty__gte=1, difficulty__lte=5),
                name="prompt_difficulty_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"Prompt {self.external_id or self.pk}: {self.instruction[:60]}"


class ModelResponse(models.Model):
    """One model's answer to a seed task or to a test prompt (exactly one of the two)."""

    seed_task = models.ForeignKey(SeedTask, on_delete=models.CASCADE, null=True, blank=True, related_name="responses")
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, null=True, blank=True, related_name="responses")
    model_name = models.CharField(max_length=200, db_index=True)
    model_version = models.CharField(max_length=100, blank=True)
    generation_params = models.JSONField(default=dict, blank=True)
    text = models.TextField()
    raw_output = models.TextField(blank=True, default="")
    origin_file = models.CharField(max_length=500, blank=True)
    origin_line = models.PositiveIntegerField(null=True, blank=True)
    import_job = models.ForeignKey(
        "ImportJob", on_delete=models.SET_NULL, null=True, blank=True, related_name="responses"
    )
    content_hash = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(seed_task__isnull=False, prompt__isnull=True)
                    | models.Q(seed_task__isnull=True, prompt__isnull=False)
                ),
                name="response_answers_task_or_prompt",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model_name} on {self.seed_task or self.prompt}"

    @property
    def item(self) -> SeedTask | Prompt:
        return self.seed_task or self.prompt
