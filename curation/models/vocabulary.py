from django.db import models


class VocabularyKind(models.TextChoices):
    TOPIC = "topic", "Topic"
    VIEW = "view", "View"
    TASK_TYPE = "task_type", "Task type"


class VocabularyTerm(models.Model):
    """A canonical term ("Medical Student", "Rewrite") that raw spellings in data files map to."""

    kind = models.CharField(max_length=16, choices=VocabularyKind.choices)
    name = models.CharField(max_length=200)
    key = models.CharField(max_length=200, help_text="Normalised form used for matching (curation.vocabulary)")
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], name="one_term_per_normalised_key"),
        ]

    def __str__(self) -> str:
        return self.name


class VocabularyAlias(models.Model):
    """A curated spelling that is not a simple variant of its term ("Patient's Perspective" -> "Patient")."""

    kind = models.CharField(max_length=16, choices=VocabularyKind.choices)
    term = models.ForeignKey(VocabularyTerm, on_delete=models.CASCADE, related_name="aliases")
    raw = models.CharField(max_length=200)
    key = models.CharField(max_length=200)

    class Meta:
        ordering = ["kind", "raw"]
        verbose_name_plural = "vocabulary aliases"
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="one_alias_per_normalised_key")]

    def __str__(self) -> str:
        return f"{self.raw} -> {self.term}"
