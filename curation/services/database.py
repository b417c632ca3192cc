"""Upkeep of the database itself, which the ORM does not do on its own."""

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction
from django.db.models import Model

from curation.models import ModelResponse, Prompt, SeedTask

# The tables an import writes, the seed tasks' history included: finding the next open item asks
# whether the reviewer ever edited the task, and with the history's statistics from before a large
# import the planner reads every history row for it (31 ms a claim at 52,000 tasks, instead of 0.3 ms).
IMPORTED = (SeedTask, SeedTask.history.model, Prompt, ModelResponse)


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


def imported_tables_analyze() -> None:
    """Refresh PostgreSQL's planner statistics of the tables an import writes (seed tasks and their
    history, prompts, responses). Call after the import has committed.

    Autovacuum analyses a table only after many changes, and only later: right after a bulk import
    the planner still believes the table is as small as before and picks plans (sorting every row of
    a list, scanning instead of using an index) that cost seconds per page. SQLite keeps no such
    statistics, so there is nothing to do there.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in IMPORTED:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


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
