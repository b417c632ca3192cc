"""Where an import keeps its records between the passes, and how it puts rows into the database fast.

`BATCH_SIZE` rows go in per insert; the writers (curation.services.imports.writing) batch by it too.
"""

import logging
import marshal
import tempfile
from collections.abc import Iterator
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections
from django.utils import timezone

from curation.formats import Record
from curation.models import ImportJob, Prompt, SeedTask

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000


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

    On PostgreSQL rows go in through COPY, ids drawn from the table's sequence beforehand: the ORM's
    bulk_create spends most of a large import preparing values one by one. Elsewhere bulk_create.
    Rows that need their id afterwards (prompts, whose responses follow) get it as row["id"].
    """

    def __init__(self):
        self.postgres = connection.vendor == "postgresql"

    def insert(self, model, rows: list[dict[str, Any]]) -> None:
        if not self.postgres:
            objs = model.objects.bulk_create([model(**row) for row in rows], batch_size=BATCH_SIZE)
            for row, obj in zip(rows, objs, strict=True):
                row["id"] = obj.pk
            return
        if model is Prompt or model is SeedTask:
            self._assign_ids(model, rows)
        self._copy(model, rows)

    def history_for_import(self, model, *, job: ImportJob, reason: str) -> None:
        """The "created" history row of every task the job wrote, copied inside the database in one statement."""
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
                f"SELECT {sources} FROM {quote(model._meta.db_table)} WHERE import_job_id = %s",
                [*(params[f.attname] for f in fields if f.attname in own), job.pk],
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


class SideProgress:
    """Writes records_written from a second database connection while pass 2's transaction is open.

    The records and the job's final status commit together; the running count must not wait for
    that commit, or a poller would see nothing move until the end. SQLite allows one writer at a
    time, so there the count appears only when the import finishes.
    """

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.connection = None
        if connection.vendor == "postgresql":
            self.connection = connections.create_connection(DEFAULT_DB_ALIAS)

    def written(self, count: int) -> None:
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
