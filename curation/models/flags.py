from django.conf import settings
from django.db import models
from django.utils import timezone

from curation.models.projects import Project
from curation.models.responses import ModelResponse
from curation.models.seed_tasks import SeedTask


class FlagKind(models.TextChoices):
    UNSAFE = "unsafe", "Unsafe"
    PHI = "phi", "Contains PHI"
    NEEDS_SPECIALIST = "needs_specialist", "Needs a specialist"


# The kinds of flag that block an item until a curator clears them: they put it on the curators'
# attention list, send it to adjudication and keep it out of every release.
BLOCKING_FLAG_KINDS = (FlagKind.UNSAFE, FlagKind.PHI)

# The seed-review form's multiple-choice field whose choices are also raised as flags on submit
# (curation.services.flags) and count as safety flags in adjudication (curation.selectors.adjudication).
FLAG_ANSWER_FIELD = "flags"


class ItemFlag(models.Model):
    """A reviewer's flag on a seed task or a model response; unsafe and PHI flags reach the curators' attention list."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="flags")
    seed_task = models.ForeignKey(SeedTask, on_delete=models.CASCADE, null=True, blank=True, related_name="flags")
    response = models.ForeignKey(ModelResponse, on_delete=models.CASCADE, null=True, blank=True, related_name="flags")
    kind = models.CharField(max_length=32, choices=FlagKind.choices)
    note = models.TextField(blank=True)
    # Null when the PHI scanner raised it (curation.services.phi), not a person.
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    raised_at = models.DateTimeField(default=timezone.now)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cleared_at = models.DateTimeField(null=True, blank=True)
    clearance_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-raised_at"]
        indexes = [
            # The attention list (a project's open unsafe and PHI flags, newest first) read a page at a time
            # in its order, and the dashboard's count of them, instead of sorting every open flag per page.
            models.Index(
                fields=["project", "-raised_at", "-id"],
                condition=models.Q(kind__in=BLOCKING_FLAG_KINDS, cleared_at__isnull=True),
                name="itemflag_attention",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(seed_task__isnull=False, response__isnull=True)
                    | models.Q(seed_task__isnull=True, response__isnull=False)
                ),
                name="flag_is_for_one_item",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.seed_task or self.response}"
