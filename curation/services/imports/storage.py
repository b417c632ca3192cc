"""Where an import keeps its records between the passes, and how it puts rows into the database fast.

`BATCH_SIZE` rows go in per insert; the writers (curation.services.imports.writing) batch by it too.
"""

import logging
import marshal
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.utils import timezone

from curation.formats import Record
from curation.models import ImportJob, ModelResponse, Prompt, SeedTask
from curation.services.seed_tasks import seed_tasks_counted
from curation.services.vocabulary import vocabulary_uses_of

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
# Column types whose Python values SQLite cannot bind as they are (datetimes, JSON, ...): prepared by the field.
_PREPARED_TYPES = frozenset(
    ["DateTimeField", "DateField", "TimeField", "DurationField", "DecimalField", "JSONField", "UUIDField"]
)


def writes_in_batches() -> bool:
    """Whether pass 2 commits batch by batch (SQLite) rather than in one transaction (PostgreSQL).

    SQLite has one write lock for the whole file. One transaction writing 52,000 records holds it for
    seconds, and every autosave and submit of the people at work queues behind it, failing once the
    busy timeout runs out. Committed batch by batch, the lock is free between batches (a batch takes
    well under a tenth of a second), so their writes pass in between.

    The import stays all or nothing: every row it writes carries the job's id, and a job that fails
    has its rows deleted (import_rows_discard) before it says so; one whose worker died has them
    deleted when it is recovered, before it starts again. What people may see is an import's tasks
    arriving while its page says "writing". The other ways to keep a batched write invisible were
    worse: a staging table must still be copied into the project in one transaction, which holds the
    lock as long as the write did; rows written invisible need every query of tasks, prompts and
    responses to leave them out, and flipping them visible is again one write of every row.

    PostgreSQL's writers lock rows, not the database: there one transaction keeps the whole import
    out of sight until it commits, and a failure leaves nothing to clean up.
    """
    return connection.vendor == "sqlite"


def batch_transaction() -> AbstractContextManager:
    """The transaction one batch of pass 2 is written in: its own where writes_in_batches(), else the
    import's one transaction, already open."""
    return transaction.atomic() if writes_in_batches() else nullcontext()


def import_history_reason(job: ImportJob) -> str:
    return f"imported from {job.file_name}"[:100]


class Spool:
    """Validated records kept on disk between the passes (marshal: fast, and never the whole file in memory)."""

    def __enter__(self) -> "Spool":
        self.file = tempfile.TemporaryFile()
        self.kinds: dict[type, int] = {}
        self.types: list[type] = []
        return self

    def __exit__(self, *exc_info) -> None:
        self.file.close()

    def write(self, record: Record) -> None:
        kind = self.kinds.get(type(record))
        if kind is None:
            kind = self.kinds[type(record)] = len(self.types)
            self.types.append(type(record))
        marshal.dump((kind, *record.__dict__.values()), self.file)

    def read(self) -> Iterator[Record]:
        self.file.seek(0)
        types, load, file = self.types, marshal.load, self.file
        while True:
            try:
                kind, *values = load(file)
            except EOFError:
                return
            yield types[kind](*values)


class Inserter:
    """Inserts rows given as {attname: value}, filling every other column with its field default.

    On PostgreSQL rows go in through COPY, ids drawn from the table's sequence beforehand; on SQLite
    through one prepared INSERT run for every row, ids counted on from the table's last: the ORM's
    bulk_create spends most of a large import preparing values one by one. Elsewhere bulk_create.
    Seed tasks and prompts get their id as row["id"] (history and responses follow them).
    """

    def __init__(self):
        self.vendor = connection.vendor

    def insert(self, model, rows: list[dict[str, Any]]) -> None:
        if self.vendor == "sqlite":
            self._insert_sqlite(model, rows)
            return
        if self.vendor != "postgresql":
            objs = model.objects.bulk_create([model(**row) for row in rows], batch_size=BATCH_SIZE)
            for row, obj in zip(rows, objs, strict=True):
                row["id"] = obj.pk
            return
        if model is Prompt or model is SeedTask:
            self._assign_ids(model, rows)
        self._copy(model, rows)

    def _insert_sqlite(self, model, rows: list[dict[str, Any]]) -> None:
        """Precondition: inside a transaction, which on SQLite holds the write lock (BEGIN IMMEDIATE), so
        no other writer takes the ids counted here. They follow the highest id the table ever had
        (sqlite_sequence: Django's tables are AUTOINCREMENT), so an id deleted is never given again."""
        table = model._meta.db_table
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        names = [f.attname for f in fields]
        defaults = {f.attname: f.get_default() for f in fields if f.attname not in rows[0]}
        prepared = {f.attname: f for f in fields if f.get_internal_type() in _PREPARED_TYPES}
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
                f"COALESCE((SELECT MAX(id) FROM {quote(table)}), 0))",
                [table],
            )
            next_id = cursor.fetchone()[0] + 1
            values = []
            done: dict[tuple[str, Any], Any] = {}  # an import's rows share their datetimes: prepared once
            for pk, row in enumerate(rows, start=next_id):
                row["id"] = pk
                line = [pk]
                for name in names:
                    value = row[name] if name in row else defaults[name]
                    if name in prepared:
                        try:
                            value = done[name, value]
                        except KeyError:
                            done[name, value] = value = prepared[name].get_db_prep_save(value, connection)
                        except TypeError:  # unhashable (a JSON value)
                            value = prepared[name].get_db_prep_save(value, connection)
                    line.append(value)
                values.append(line)
            columns = ", ".join(quote(c) for c in ["id", *(f.column for f in fields)])
            marks = ", ".join(["%s"] * (len(fields) + 1))
            cursor.executemany(f"INSERT INTO {quote(table)} ({columns}) VALUES ({marks})", values)

    def history_for_import(self, model, *, job: ImportJob, reason: str, rows: list[dict[str, Any]]) -> None:
        """The "created" history row of each of `rows` (tasks the job just wrote, with their ids), copied
        inside the database in one statement."""
        history = model.history.model
        quote = connection.ops.quote_name
        own = {"history_date": "%s", "history_change_reason": "%s", "history_type": "%s", "history_user_id": "%s"}
        fields = [f for f in history._meta.concrete_fields if not f.primary_key]
        targets = ", ".join(quote(f.column) for f in fields)
        sources = ", ".join(own.get(f.attname, quote(f.column)) for f in fields)
        params = {
            "history_date": timezone.now(),
            "history_change_reason": reason,
            "history_type": "+",
            "history_user_id": job.created_by_id,
        }
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(history._meta.db_table)} ({targets}) "
                f"SELECT {sources} FROM {quote(model._meta.db_table)} "
                "WHERE import_job_id = %s AND id BETWEEN %s AND %s",
                [*(params[f.attname] for f in fields if f.attname in own), job.pk, *_id_range(rows)],
            )

    def _assign_ids(self, model, rows: list[dict[str, Any]]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [model._meta.db_table, len(rows)],
            )
            for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
                row["id"] = pk

    def _copy(self, model, rows: list[dict[str, Any]]) -> None:
        first = rows[0]
        fields = [f for f in model._meta.concrete_fields if f.attname in first or not f.primary_key]
        defaults = {f.attname: f.get_default() for f in fields if f.attname not in first}
        json_fields = {f.attname for f in fields if f.get_internal_type() == "JSONField"}
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        names = [f.attname for f in fields]
        statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for row in rows:
                values = [row[name] if name in row else defaults[name] for name in names]
                if json_fields:
                    from psycopg.types.json import Jsonb

                    values = [
                        Jsonb(value) if name in json_fields else value
                        for name, value in zip(names, values, strict=True)
                    ]
                copy.write_row(values)


def _id_range(rows: list[dict[str, Any]]) -> tuple[int, int]:
    ids = [row["id"] for row in rows]
    return min(ids), max(ids)


class SideProgress:
    """Writes records_written (and the heartbeat) as pass 2 goes.

    On PostgreSQL the records and the job's final status commit together; the running count must not
    wait for that commit, or a poller would see nothing move until the end, so it goes through a
    second database connection. Where each batch commits on its own (writes_in_batches), the count is
    written in the batch's transaction, and commits with the rows it counts.
    """

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.connection = None
        self.batched = writes_in_batches()
        if connection.vendor == "postgresql":
            self.connection = connections.create_connection(DEFAULT_DB_ALIAS)

    def written(self, count: int) -> None:
        if self.batched:
            ImportJob.objects.filter(pk=self.job_id).update(records_written=count, heartbeat_at=timezone.now())
            return
        if self.connection is None:
            return
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '2s'")
                cursor.execute(
                    f"UPDATE {ImportJob._meta.db_table} SET records_written = %s, heartbeat_at = %s WHERE id = %s",
                    [count, timezone.now(), self.job_id],
                )
        except DatabaseError:
            logger.warning("Import job %s: progress not recorded", self.job_id, exc_info=True)
            self.close()

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def import_rows_discard(*, job_id: int) -> dict[str, int]:
    """Take back what an unfinished job wrote: its responses, prompts and seed tasks (with their
    history), batch by batch; returns {"discarded": rows deleted, "kept": rows kept}.

    Where pass 2 commits batch by batch (writes_in_batches), a job that fails or whose worker dies
    has rows in the project; called before it is marked failed or starts again. Each batch is its
    own transaction when called outside one, so others' writes pass in between. A row that something
    else already refers to (a curator assigned a task while the import was writing) is kept with all
    that hangs on it: people's work is never deleted with an import, and an import started again
    skips the row as already in the project.
    """
    discarded = kept = 0
    for model in (ModelResponse, Prompt, SeedTask):  # responses before the prompts they answer
        last = 0
        while True:
            with transaction.atomic():
                ids = list(
                    model._base_manager.filter(import_job_id=job_id, pk__gt=last)
                    .order_by("pk")
                    .values_list("pk", flat=True)[:BATCH_SIZE]
                )
                if not ids:
                    break
                last = ids[-1]
                used = _referred_to(model, ids)
                free = [pk for pk in ids if pk not in used]
                kept += len(used)
                discarded += _delete_rows(model, free)
    if discarded or kept:
        logger.warning("Import job %s: %s rows it wrote discarded, %s kept in use", job_id, discarded, kept)
    return {"discarded": discarded, "kept": kept}


def _referred_to(model, ids: list[int]) -> set[int]:
    """Which of `ids` rows of another table refer to (by any foreign key to `model`)."""
    used: set[int] = set()
    # Hidden relations too: most foreign keys to these tables have no reverse accessor (related_name="+").
    for rel in model._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        column = rel.field.attname
        used.update(
            rel.related_model._base_manager.filter(**{f"{column}__in": ids}).values_list(column, flat=True).distinct()
        )
    return used


def _delete_rows(model, ids: list[int]) -> int:
    if not ids:
        return 0
    if model is SeedTask:
        _uncount_tasks(ids)
    quote = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        history = getattr(model, "history", None)
        if history is not None:
            cursor.execute(f"DELETE FROM {quote(history.model._meta.db_table)} WHERE id IN ({marks})", ids)
        cursor.execute(f"DELETE FROM {quote(model._meta.db_table)} WHERE id IN ({marks})", ids)
        return cursor.rowcount


def _uncount_tasks(ids: list[int]) -> None:
    """Take the tasks about to be deleted out of their projects' counts, which their batches added to."""
    columns = ("project_id", "topic_id", "view_id", "task_type_id", "topic_raw", "view_raw", "task_type_raw")
    rows = list(SeedTask._base_manager.filter(pk__in=ids).values(*columns))
    for project_id in {row["project_id"] for row in rows}:
        mine = [row for row in rows if row["project_id"] == project_id]
        uses = {use: -n for use, n in vocabulary_uses_of(mine).items()}
        seed_tasks_counted(project_id=project_id, tasks=-len(mine), uses=uses)
