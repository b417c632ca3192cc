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


class VocabularyUse(models.Model):
    """How many of a project's seed tasks carry one spelling (`raw`) of a kind, linked to `term` (None:
    nobody has mapped the spelling yet), as one row: the vocabulary page and the release form read these
    instead of grouping a million tasks.

    Kept in the transaction that writes the tasks by every service that adds them or changes their terms
    (task creation and edits, imports, mapping a spelling, merging terms); `manage.py recount` rebuilds
    them. Rows left at 0 stay until a recount and are never shown.
    """

    project = models.ForeignKey("curation.Project", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=VocabularyKind.choices)
    term = models.ForeignKey(VocabularyTerm, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    raw = models.CharField(max_length=200, blank=True)
    tasks = models.IntegerField(default=0)

    class Meta:
        constraints = [
            # Two partial constraints: NULL terms are distinct in a plain unique constraint.
            models.UniqueConstraint(
                fields=["project", "kind", "raw"],
                condition=models.Q(term__isnull=True),
                name="one_unmapped_use_per_spelling",
            ),
            models.UniqueConstraint(
                fields=["project", "term", "raw"],
                condition=models.Q(term__isnull=False),
                name="one_mapped_use_per_spelling",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.raw!r} ({self.kind}) in {self.tasks} tasks of project {self.project_id}"
