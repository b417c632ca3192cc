"""Writes of seed tasks' search documents (curation.models.SeedTaskSearch), PostgreSQL only.

A task's document is built from its texts inside the database (to_tsvector), never in Python: in the
transaction of a new task or an edit of its texts (seed_task_search_upsert, one statement), by a job
after an import for the tasks the import wrote (seed_task_search_import_index), and for whatever is
missing or stale in a project by `manage.py search_index` (seed_task_search_fill). An import leaves the
documents to the job because building them inside its transaction cost more than writing the tasks.

On SQLite search reads the tasks themselves (curation.selectors.seed_tasks.seed_tasks_matching): every
function here writes nothing there, and an import counts as indexed as soon as it succeeds.
"""

from functools import partial

from django.db import connection, transaction
from django.utils import timezone

from curation.models import ImportJob, ImportStatus, SeedTask, SeedTaskSearch
from curation.selectors import seed_tasks as seed_task_selectors
from curation.selectors.seed_tasks import SEARCH_CONFIG, SEARCH_FIELDS

# The GIN index on SeedTaskSearch.document (migration 0023).
SEARCH_INDEX = "seed_task_search_document"
# Ids of tasks per statement (and per transaction) when documents are built in bulk: each batch
# holds share locks on its tasks only while its documents are built, a fraction of a second.
FILL_BATCH = 5000

_TASKS = SeedTask._meta.db_table
_SEARCH = SeedTaskSearch._meta.db_table
# The document as seed_tasks_matching's SEARCH_FIELDS and SEARCH_CONFIG define it, of the task row "t".
DOCUMENT = (
    f"to_tsvector('{SEARCH_CONFIG}'::regconfig, "
    + " || ' ' || ".join(f"COALESCE(t.{field}, '')" for field in SEARCH_FIELDS)
    + ")"
)
_INSERT = f"INSERT INTO {_SEARCH} (seed_task_id, project_id, document, content_hash) "
_UPSERT = (
    " ON CONFLICT (seed_task_id) DO UPDATE SET document = EXCLUDED.document, "
    "content_hash = EXCLUDED.content_hash, project_id = EXCLUDED.project_id"
)


def seed_task_search_upsert(*, task_id: int) -> None:
    """Build the task's document from its texts as saved. Call in the transaction that saved them, after
    the save, so that the task is found by its new words, and no longer by its old ones, once it commits."""
    if not seed_task_selectors.searches_documents():
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"{_INSERT}SELECT t.id, t.project_id, {DOCUMENT}, t.content_hash FROM {_TASKS} t WHERE t.id = %s{_UPSERT}",
            [task_id],
        )


def seed_task_search_fill(*, project_id: int, import_job_id: int | None = None) -> int:
    """Build the documents of the project's tasks (or only of those `import_job_id` wrote) that have none,
    or one built from other texts than the task's (content_hash differs); returns how many were built.

    A batch of FILL_BATCH task ids at a time, each its own transaction (call outside one). A batch reads
    its tasks FOR SHARE: an edit committing meanwhile has already written its own document, and a batch
    that read the task before the edit would otherwise overwrite it with the old words; with the lock it
    waits for the edit and reads the task as edited.
    """
    if not seed_task_selectors.searches_documents():
        return 0
    scope, value = ("import_job_id", import_job_id) if import_job_id is not None else ("project_id", project_id)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(id), MAX(id) FROM {_TASKS} WHERE {scope} = %s", [value])
        first, last = cursor.fetchone()
    if first is None:
        return 0
    built = 0
    for start in range(first, last + 1, FILL_BATCH):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"{_INSERT}SELECT t.id, t.project_id, {DOCUMENT}, t.content_hash FROM {_TASKS} t "
                f"LEFT JOIN {_SEARCH} s ON s.seed_task_id = t.id "
                f"WHERE t.{scope} = %s AND t.project_id = %s AND t.id BETWEEN %s AND %s "
                "AND (s.seed_task_id IS NULL OR s.content_hash <> t.content_hash) "
                f"FOR SHARE OF t{_UPSERT}",
                [value, project_id, start, min(start + FILL_BATCH - 1, last)],
            )
            built += cursor.rowcount
    return built


def seed_task_search_needs_job(job: ImportJob) -> bool:
    """Whether the tasks a successful import wrote wait for the job that builds their search documents."""
    return seed_task_selectors.searches_documents() and bool(job.report.get("created", {}).get("seed_tasks"))


def seed_task_search_after_import(*, import_job_id: int) -> None:
    """Have the documents of the seed tasks a successful import wrote built (called once it commits): by a
    job on PostgreSQL, queued as the import's PHI scan is; where there is nothing to build, the import
    counts as indexed at once."""
    from curation.jobs import seed_task_search_task  # jobs import services lazily; this is the other direction

    job = ImportJob.objects.only("report").get(pk=import_job_id)
    if not seed_task_search_needs_job(job):
        ImportJob.objects.filter(pk=import_job_id).update(search_indexed_at=timezone.now())
        return
    transaction.on_commit(partial(seed_task_search_task.delay, import_job_id))


def seed_task_search_import_index(*, import_job_id: int) -> int:
    """The job after an import: build the documents of the tasks it wrote (and of none other), then record
    that they are built; returns how many were. Run again for a job already indexed, it builds only what
    changed without its document (nothing, normally) and keeps the first date."""
    job = ImportJob.objects.only("project_id").get(pk=import_job_id)
    built = seed_task_search_fill(project_id=job.project_id, import_job_id=job.pk)
    ImportJob.objects.filter(pk=job.pk, search_indexed_at__isnull=True).update(search_indexed_at=timezone.now())
    if built and seed_task_selectors.searches_documents():
        with connection.cursor() as cursor:
            # New entries wait in the GIN index's pending list until a vacuum merges them, and the planner
            # prices a search by that list: with 52,000 in it, above reading the table in id order.
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [SEARCH_INDEX])
            # As after the import itself (services.database.imported_tables_analyze): the planner must learn
            # that the table grew, or it plans searches for the small table it was.
            cursor.execute(f"ANALYZE {_SEARCH}")
    return built


def seed_task_search_catch_up(*, project_id: int) -> int:
    """Build every missing or stale document of the project (`manage.py search_index`); returns how many
    were. Imports of the project that had succeeded before it began and whose job has not run count as
    indexed after it (their tasks were among those it read); one committing meanwhile keeps its job."""
    waiting = list(
        ImportJob.objects.filter(
            project_id=project_id, status=ImportStatus.SUCCEEDED, search_indexed_at__isnull=True
        ).values_list("pk", flat=True)
    )
    built = seed_task_search_fill(project_id=project_id)
    ImportJob.objects.filter(pk__in=waiting, search_indexed_at__isnull=True).update(search_indexed_at=timezone.now())
    return built
