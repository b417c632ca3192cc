"""Upkeep of the database itself, which the ORM does not do on its own."""

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction
from django.db.models import Model

from curation.models import ModelResponse, Prompt, SeedTask

# The tables an import writes, by the name its report counts them under, each with the columns whose
# statistics the planner uses: those that pages and jobs filter, join and sort on. The long texts are
# left out, as they are only ever read by id: their statistics took half of each table's ANALYZE.
# The seed tasks' history is included: finding the next open item asks whether the reviewer ever
# edited the task, and with the history's statistics from before a large import the planner reads
# every history row for it (31 ms a claim at 52,000 tasks, instead of 0.3 ms).
IMPORTED: dict[str, tuple[tuple[type[Model], tuple[str, ...]], ...]] = {
    "seed_tasks": (
        (
            SeedTask,
            (
                "id",
                "project_id",
                "status",
                "difficulty",
                "topic_id",
                "view_id",
                "task_type_id",
                "import_job_id",
                "source",
            ),
        ),
        (SeedTask.history.model, ("id", "history_type", "history_user_id")),
    ),
    "prompts": ((Prompt, ("id", "project_id", "external_id", "import_job_id")),),
    "responses": ((ModelResponse, ("id", "seed_task_id", "prompt_id", "model_name", "import_job_id")),),
}


@contextmanager
def read_transaction() -> Iterator[None]:
    """A transaction for a long read that must see one consistent state (a release build).

    On SQLite every other transaction begins IMMEDIATE (config/settings/base.py): it takes the one
    write lock at once, and a read of minutes would keep every autosave and submit waiting. This one
    begins DEFERRED: in WAL mode it reads one snapshot and takes no lock writers wait for. Write
    nothing inside it: once another connection has committed, a write here fails ("database is
    locked") instead of waiting. Elsewhere, and inside an open transaction, it is transaction.atomic().
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    connection.ensure_connection()  # connecting sets transaction_mode from the settings
    mode = connection.transaction_mode
    connection.transaction_mode = "DEFERRED"
    try:
        with transaction.atomic():
            connection.transaction_mode = mode  # only this BEGIN is deferred
            yield
    finally:
        connection.transaction_mode = mode


def imported_tables_analyze(*, created: Mapping[str, int] | None = None) -> None:
    """Refresh PostgreSQL's planner statistics of the tables an import wrote (seed tasks and their
    history, prompts, responses), given as its report's counts ({"seed_tasks": 52000}; all of them
    when not given). Call after the import has committed. A table the import did not write is left
    alone: sampling a large one costs a few hundred milliseconds for nothing.

    Autovacuum analyses a table only after many changes, and only later: right after a bulk import
    the planner still believes the table is as small as before and picks plans (sorting every row of
    a list, scanning instead of using an index) that cost seconds per page. SQLite keeps no such
    statistics, so there is nothing to do there.
    """
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for kind, tables in IMPORTED.items():
            if created is not None and not created.get(kind):
                continue
            for model, columns in tables:
                cursor.execute(f"ANALYZE {quote(model._meta.db_table)} ({', '.join(map(quote, columns))})")


def counter_add(
    model: type[Model],
    key: dict[str, Any],
    deltas: Mapping[str, int],
    *,
    unique: tuple[str, ...] | None = None,
    where: str = "",
) -> None:
    """Add `deltas` ({field: +n or -n}) to the counter row of `model` found by `key`, making the row if
    there is none (counters_add for one row)."""
    counters_add(model, [(key, deltas)], unique=unique, where=where)


def counters_add(
    model: type[Model],
    rows: Iterable[tuple[dict[str, Any], Mapping[str, int]]],
    *,
    unique: tuple[str, ...] | None = None,
    where: str = "",
) -> None:
    """Add to counter rows of `model`, each given as (key, {field: +n or -n}) with the same key fields,
    making the rows there are none of. Call inside the transaction whose writes the counts describe.

    One statement, INSERT ... ON CONFLICT DO UPDATE (PostgreSQL and SQLite alike): the database adds to
    the value as committed, under the row's lock, so concurrent writers never lose each other's counts
    and the first writer of a key never races another to make its row. Rows are written in key order,
    so two writers cannot deadlock on them. `unique` names the key fields a unique constraint of `model`
    covers (default: every key field); `where` is that constraint's condition, in SQL, if it is partial.
    """
    rows = sorted(
        ((key, {str(f): n for f, n in deltas.items() if n}) for key, deltas in rows),
        key=lambda row: tuple((v is not None, v) for v in row[0].values()),
    )
    rows = [(key, deltas) for key, deltas in rows if deltas]
    if not rows:
        return
    quote, opts = connection.ops.quote_name, model._meta
    table = quote(opts.db_table)
    names, counted = list(rows[0][0]), _counted_fields(model)
    added = sorted({f for _, deltas in rows for f in deltas})
    column = {name: quote(opts.get_field(name).column) for name in [*names, *counted]}
    params: list[Any] = []
    for key, deltas in rows:
        params += [str(v) if isinstance(v, str) else v for v in key.values()]
        params += [deltas.get(f, 0) for f in counted]
    one = f"({', '.join(['%s'] * (len(names) + len(counted)))})"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(column[n] for n in [*names, *counted])}) "
            f"VALUES {', '.join([one] * len(rows))} "
            f"ON CONFLICT ({', '.join(column[n] for n in unique or names)}){f' WHERE {where}' if where else ''} "
            f"DO UPDATE SET {', '.join(f'{column[f]} = {table}.{column[f]} + excluded.{column[f]}' for f in added)}",
            params,
        )


def counters_rebuild(
    model: type[Model],
    *,
    scope: dict[str, Any],
    key: tuple[str, ...],
    count: Callable[[], Mapping[tuple, Mapping[str, int]]],
) -> int:
    """Make the counter rows of `model` within `scope` (a project's, say) hold what `count()` finds by
    counting the rows themselves ({key values: {field: n}}); rows it does not find are removed. Returns
    how many counts were wrong (0 when the upkeep had kept them right).

    The scope's counter rows are locked before counting, in the caller's transaction: a writer that
    already holds one commits first and is counted; one that comes later waits and adds its own change
    to the recount's result.
    """
    rows = {
        tuple(getattr(row, f) for f in key): row for row in model._default_manager.select_for_update().filter(**scope)
    }
    true = count()
    wrong = 0
    for values_key, row in rows.items():
        values = true.get(values_key)
        if values is None:
            wrong += any(getattr(row, f) for f in _counted_fields(model))
            row.delete()
        elif any(getattr(row, f) != n for f, n in values.items()):
            wrong += 1
            for f, n in values.items():
                setattr(row, f, n)
            row.save(update_fields=list(values))
    for values_key, values in true.items():
        if values_key not in rows:
            wrong += any(values.values())
            model._default_manager.create(**scope, **dict(zip(key, values_key, strict=True)), **values)
    return wrong


def _counted_fields(model: type[Model]) -> list[str]:
    return [
        f.attname for f in model._meta.concrete_fields if f.get_internal_type() in ("IntegerField", "BigIntegerField")
    ]
