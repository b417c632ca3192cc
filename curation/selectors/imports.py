"""Reads for the import pages and API, and what a running import reads of the project."""

from collections.abc import Iterator

from django.db.models import Q, QuerySet

from curation.models import (
    ImportJob,
    ImportStatus,
    ModelResponse,
    Project,
    Prompt,
    SeedTask,
)


def import_jobs_of(*, project: Project) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(project=project).select_related("project", "created_by").order_by("-created_at")


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
