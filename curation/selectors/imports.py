"""Reads for the import pages and API, the vocabulary page that follows an import, and a running import."""

from collections.abc import Iterator

from django.db.models import Count, Q, QuerySet

from curation.models import (
    ImportJob,
    ImportStatus,
    ModelResponse,
    Project,
    Prompt,
    SeedTask,
    VocabularyKind,
    VocabularyTerm,
)

RAW_FIELDS = {
    VocabularyKind.TOPIC: "topic_raw",
    VocabularyKind.VIEW: "view_raw",
    VocabularyKind.TASK_TYPE: "task_type_raw",
}
TERM_FIELDS = {VocabularyKind.TOPIC: "topic", VocabularyKind.VIEW: "view", VocabularyKind.TASK_TYPE: "task_type"}


def import_jobs_of(*, project: Project) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(project=project).select_related("project", "created_by").order_by("-created_at")


def unmapped_values_of(*, project: Project) -> dict[str, list[dict]]:
    """Per vocabulary kind, the raw values tasks of the project carry with no term, most used first."""
    unmapped = {}
    for kind, raw_field in RAW_FIELDS.items():
        rows = (
            SeedTask.objects.filter(project=project, **{f"{TERM_FIELDS[kind]}__isnull": True})
            .exclude(**{raw_field: ""})
            .values(raw_field)
            .annotate(count=Count("id"))
            .order_by("-count", raw_field)
        )
        unmapped[kind] = [{"raw": row[raw_field], "count": row["count"]} for row in rows]
    return unmapped


def vocabulary_terms_with_use(*, project: Project) -> dict[str, list[VocabularyTerm]]:
    """Every term per kind, each annotated with how many of the project's tasks use it (`task_count`)."""
    terms: dict[str, list[VocabularyTerm]] = {kind: [] for kind in RAW_FIELDS}
    counts: dict[int, int] = {}
    for term_field in TERM_FIELDS.values():
        rows = (
            SeedTask.objects.filter(project=project, **{f"{term_field}__isnull": False})
            .values(f"{term_field}_id")
            .annotate(count=Count("id"))
        )
        counts.update({row[f"{term_field}_id"]: row["count"] for row in rows})
    for term in VocabularyTerm.objects.prefetch_related("aliases").order_by("kind", "name"):
        term.task_count = counts.get(term.pk, 0)
        terms.setdefault(term.kind, []).append(term)
    return terms


# --- What an import running now reads of the project ---


def import_previous_success(*, job: ImportJob) -> ImportJob | None:
    """The first finished import of the same file into the same project, for the same model, if any.

    The same model-output file under another model name is another model's answers, not a re-import.
    """
    return (
        ImportJob.objects.filter(
            project_id=job.project_id, file_hash=job.file_hash, model_name=job.model_name, status=ImportStatus.SUCCEEDED
        )
        .exclude(pk=job.pk)
        .order_by("finished_at")
        .first()
    )


def import_prompt_rows(*, project_id: int) -> Iterator[tuple[int, str, str, str]]:
    """(pk, external id, instruction, content hash) of every test prompt of the project with an id."""
    return (
        Prompt.objects.filter(project_id=project_id)
        .exclude(external_id="")
        .values_list("pk", "external_id", "instruction", "content_hash")
        .iterator()
    )


def prompt_ids_of(*, project_id: int) -> tuple[dict[str, int], set[str]]:
    """The project's prompts by content hash (the first of each), and the external ids in use."""
    by_hash: dict[str, int] = {}
    ids: set[str] = set()
    for pk, external_id, hash_ in Prompt.objects.filter(project_id=project_id).values_list(
        "pk", "external_id", "content_hash"
    ):
        by_hash.setdefault(hash_, pk)
        ids.add(external_id)
    return by_hash, ids


def answers_of(*, project_id: int) -> Iterator[tuple[str, str, str]]:
    """(prompt content hash, model name, text) of every answer to the project's test prompts."""
    return (
        ModelResponse.objects.filter(prompt__project_id=project_id)
        .values_list("prompt__content_hash", "model_name", "text")
        .iterator()
    )


def import_jobs_running(*, older_than) -> QuerySet[ImportJob]:
    """Jobs that say they are running but whose heartbeat (or start) is older than `older_than`."""
    running = ImportJob.objects.filter(status__in=[ImportStatus.VALIDATING, ImportStatus.WRITING])
    return running.filter(Q(heartbeat_at__lt=older_than) | Q(heartbeat_at__isnull=True, started_at__lt=older_than))


def import_jobs_writing(*, project_id: int) -> QuerySet[ImportJob]:
    """The project's imports in pass 2 now."""
    return ImportJob.objects.filter(project_id=project_id, status=ImportStatus.WRITING)


def seed_task_hashes_of(*, project_id: int) -> set[str]:
    return set(SeedTask.objects.filter(project_id=project_id).values_list("content_hash", flat=True))


def response_hashes_of(*, project_id: int) -> set[str]:
    return set(ModelResponse.objects.filter(prompt__project_id=project_id).values_list("content_hash", flat=True))
