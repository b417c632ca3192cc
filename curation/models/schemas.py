from django.conf import settings
from django.db import models
from django.utils import timezone

from curation.models.projects import Project
from curation.schemas.definitions import validate_schema_definition


class SchemaTarget(models.TextChoices):
    SEED_TASK = "seed_task", "Seed task"
    RESPONSE = "response", "Model response"
    PAIRWISE = "pairwise", "Pair of responses"


class RatingSchema(models.Model):
    """One version of a rating form. Versions are never edited once reviews use them: a change is a new version."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="rating_schemas")
    name = models.CharField(max_length=120)
    target = models.CharField(max_length=16, choices=SchemaTarget.choices)
    version = models.PositiveIntegerField(default=1)
    definition = models.JSONField(validators=[validate_schema_definition])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["project", "name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name", "version"], name="one_schema_per_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def fields(self) -> list[dict]:
        return self.definition["fields"]
