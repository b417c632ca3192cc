"""Upkeep of the database itself, which the ORM does not do on its own."""

from django.db import connection

from curation.models import ModelResponse, Prompt, SeedTask

IMPORTED = (SeedTask, Prompt, ModelResponse)


def imported_tables_analyze() -> None:
    """Refresh PostgreSQL's planner statistics of the tables an import writes (seed tasks, prompts,
    responses). Call after the import has committed.

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
