from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from curation.models.projects import Project
from curation.models.vocabulary import VocabularyTerm


class Difficulty(models.IntegerChoices):
    TRIVIAL = 1, "1 (easiest)"
    EASY = 2, "2"
    MODERATE = 3, "3"
    HARD = 4, "4"
    EXPERT = 5, "5 (hardest)"


class TaskSource(models.TextChoices):
    CLINICIAN = "clinician", "Clinician-written"
    IMPORTED = "imported", "Imported"
    MACHINE = "machine", "Machine-generated"


class TaskStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class SeedTask(models.Model):
    """An instruction-tuning seed: instruction, optional input and a reference output, with its metadata.

    `input` is "" when the task has none (files spell that "<noinput>"; importers translate it).
    `version` increases on every edit: an edit names the version it started from, so two people
    editing at once cannot silently overwrite each other (curation.services.seed_tasks.seed_task_edit).
    """

    # Not indexed on its own: every index below starts with the project, and an import writes each index.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="seed_tasks", db_index=False)
    instruction = models.TextField()
    input = models.TextField(blank=True, default="")
    reference_output = models.TextField(blank=True, default="")
    topic_raw = models.CharField(max_length=200, blank=True)
    view_raw = models.CharField(max_length=200, blank=True)
    task_type_raw = models.CharField(max_length=200, blank=True)
    topic = models.ForeignKey(
        VocabularyTerm,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"kind": "topic"},
    )
    view = models.ForeignKey(
        VocabularyTerm,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"kind": "view"},
    )
    task_type = models.ForeignKey(
        VocabularyTerm,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"kind": "task_type"},
    )
    difficulty = models.PositiveSmallIntegerField(choices=Difficulty.choices, null=True, blank=True)
    source = models.CharField(max_length=16, choices=TaskSource.choices, default=TaskSource.CLINICIAN)
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.DRAFT)
    external_id = models.CharField(max_length=200, blank=True)
    origin_file = models.CharField(max_length=500, blank=True)
    origin_line = models.PositiveIntegerField(null=True, blank=True)
    import_job = models.ForeignKey(
        "ImportJob", on_delete=models.SET_NULL, null=True, blank=True, related_name="seed_tasks"
    )
    # Compared with a task's PHI scan and search document, which are found by the task's id: never looked up.
    content_hash = models.CharField(max_length=64)
    version = models.PositiveIntegerField(default=1)
    # The version a curator accepted: a release takes an accepted task only while it is still this version.
    accepted_version = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    # History is read by task id alone; the references it copies are not indexed (an import writes 52,000
    # history rows at a time, and each index of them cost as much as one of the tasks' own).
    history = HistoricalRecords(
        excluded_fields=["content_hash", "updated_at"],
        cascade_delete_history=True,
        no_db_index=["project", "topic", "view", "task_type", "import_job", "created_by"],
    )

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["project", "status"]),
            models.Index(fields=["project", "difficulty"]),
            # Keyset pages of a project's tasks in id order: "id > cursor LIMIT n" reads only n rows.
            models.Index(fields=["project", "id"], name="seed_task_project_id"),
            # The vocabulary page groups a project's tasks by (term, raw value) per kind from these alone.
            models.Index(fields=["project", "topic", "topic_raw"], name="seed_task_project_topic"),
            models.Index(fields=["project", "view", "view_raw"], name="seed_task_project_view"),
            models.Index(fields=["project", "task_type", "task_type_raw"], name="seed_task_project_task_type"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(difficulty__isnull=True) | models.Q(difficulty__gte=1, difficulty__lte=5),
                name="seed_task_difficulty_1_to_5",
            ),
            models.CheckConstraint(condition=~models.Q(input="<noinput>"), name="seed_task_input_never_noinput"),
        ]

    def __str__(self) -> str:
        return f"Task {self.pk}: {self.instruction[:60]}"


class SeedTaskCount(models.Model):
    """How many seed tasks a project has, as one row: the dashboard reads it instead of counting a
    million tasks on every visit.

    Kept in the transaction that adds the tasks by every service that writes them (seed_task_create,
    imports: curation.services.seed_tasks.seed_tasks_counted); `manage.py recount` rebuilds it from the
    tasks themselves.
    """

    project = models.OneToOneField(Project, on_delete=models.CASCADE, primary_key=True, related_name="+")
    tasks = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.tasks} seed tasks in project {self.project_id}"


class SeedTaskSearch(models.Model):
    """The words a seed task is found by: its full-text search document, kept apart from the task so that
    writing tasks (an import of 52,000) does not also build their documents (PostgreSQL only).

    Built from the task's texts as `content_hash` names them: in the transaction of every edit and of a
    new task (curation.services.seed_task_search.seed_task_search_upsert), by a job after an import
    (until it has run, the import's `search_indexed_at` is null and its tasks are not found), and by
    `manage.py search_index` for whatever is missing or stale. The GIN index on `document` is created by
    migration 0023 on PostgreSQL only; on SQLite search matches substrings of the tasks themselves and
    this table stays empty.
    """

    seed_task = models.OneToOneField(SeedTask, on_delete=models.CASCADE, primary_key=True, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    document = SearchVectorField()
    content_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"Search document of task {self.seed_task_id}"
