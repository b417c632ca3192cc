from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from curation.models.projects import Project


class ReleaseFormat(models.TextChoices):
    ALPACA = "alpaca", "Alpaca (instruction, input, output) JSONL"
    CHAT = "chat", "Chat messages JSONL"
    PREFERENCE = "preference", "Preference pairs (prompt, chosen, rejected) JSONL"
    REVIEWS = "reviews", "Reviews in long form JSONL"
    REVIEWS_CSV = "reviews_csv", "Reviews in long form CSV"
    SCORES_CSV = "scores_csv", "Scores per review CSV"


class ReleaseStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Ready"
    FAILED = "failed", "Failed"


class Release(models.Model):
    """One versioned export of a project's curated data: its definition, its progress and its manifest.

    The definition (format, filters, license, purpose) is fixed at creation. Once it has succeeded a
    release is immutable: curation.services.releases never writes to it again and its files are only
    read. `salt` keys the reviewer pseudonyms of this release and never leaves the database: it is
    derived from the project's ReleaseKey and the definition, so releases of one definition share
    pseudonyms (and bytes) until the key is rotated.

    A build is made in attempts (curation.services.release_attempts): `attempts` numbers the latest,
    which holds the release until `leased_until` and renews that lease as it reports progress. A
    running release whose lease expired was left by a worker that stopped; each such stop is kept in
    `interruptions` ({"attempt", "last_seen", "at", "then"}: "taken over", "queued again" or "failed"),
    and `restarts` counts the automatic restarts since a person last queued the build.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="releases")
    title = models.CharField(max_length=200)
    purpose = models.TextField(blank=True)
    license = models.CharField(max_length=200)
    format = models.CharField(max_length=16, choices=ReleaseFormat.choices)
    filters = models.JSONField(default=dict, blank=True)
    definition_hash = models.CharField(max_length=64, db_index=True)
    salt = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=ReleaseStatus.choices, default=ReleaseStatus.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    restarts = models.PositiveSmallIntegerField(default=0)
    interruptions = models.JSONField(default=list, blank=True)
    schema_versions = models.JSONField(default=list, blank=True)
    guidelines_version = models.PositiveIntegerField(null=True, blank=True)
    row_count = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    file_path = models.CharField(max_length=500, blank=True, help_text="Relative to MEDIA_ROOT")
    file_size = models.BigIntegerField(null=True, blank=True)
    card = models.TextField(blank=True, help_text="The dataset card (README.md) written with the data")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("make_release", "Can build and download dataset releases")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="succeeded")
                | (
                    ~models.Q(sha256="")
                    & ~models.Q(file_path="")
                    & models.Q(row_count__isnull=False, finished_at__isnull=False)
                ),
                name="release_succeeded_has_manifest",
            ),
        ]

    def __str__(self) -> str:
        return f"Release {self.pk}: {self.title} ({self.format})"

    @property
    def is_finished(self) -> bool:
        return self.status in (ReleaseStatus.SUCCEEDED, ReleaseStatus.FAILED)

    @property
    def interruptions_seen(self) -> list[dict]:
        """`interruptions` with their times as datetimes, for the page."""
        return [
            {**stop, "last_seen": datetime.fromisoformat(stop["last_seen"]), "at": datetime.fromisoformat(stop["at"])}
            for stop in self.interruptions
        ]

    @property
    def percent(self) -> int:
        if self.status == ReleaseStatus.SUCCEEDED:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_written * 100 // self.rows_total)


class ReleaseKey(models.Model):
    """The secret a project's reviewer pseudonyms are keyed with, created with its first release.

    It never leaves the database. Rotating it (curation.services.releases.release_key_rotate) makes
    every later release's pseudonyms unlinkable to earlier ones; releases already built keep theirs.
    """

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="release_key")
    secret = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Release key of {self.project_id}"
