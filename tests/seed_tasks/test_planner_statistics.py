"""After an import, PostgreSQL's planner statistics of the tables it wrote are fresh."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from curation.services.database import imported_tables_analyze
from tests.scale import grow

ON_POSTGRESQL = connection.vendor == "postgresql"


def _analysed(project, **kwargs) -> list[str]:
    """The statements run after 30 tasks were written; none on SQLite, which keeps no such statistics."""
    grow(project, [], 30)
    with CaptureQueriesContext(connection) as captured:
        imported_tables_analyze(**kwargs)
    return [q["sql"] for q in captured.captured_queries]


def _tables(statements: list[str]) -> list[str]:
    return [s.split(" (")[0].removeprefix("ANALYZE ") for s in statements]


def _fetched(sql: str):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()


def test_imported_tables_are_analysed_on_postgresql_and_nothing_is_done_on_sqlite(project):
    statements = _analysed(project)
    every = ['"curation_seedtask"', '"curation_historicalseedtask"', '"curation_prompt"', '"curation_modelresponse"']
    assert _tables(statements) == (every if ON_POSTGRESQL else [])
    if ON_POSTGRESQL:  # the planner now knows the rows the test just wrote
        assert _fetched("SELECT reltuples FROM pg_class WHERE relname = 'curation_seedtask'")[0] >= 30


def test_only_the_tables_an_import_wrote_are_analysed_and_not_their_long_texts(project):
    statements = _analysed(project, created={"seed_tasks": 30, "prompts": 0})
    written = ['"curation_seedtask"', '"curation_historicalseedtask"']
    assert _tables(statements) == (written if ON_POSTGRESQL else [])
    if ON_POSTGRESQL:
        columns = statements[0].split(" (", 1)[1]
        assert '"project_id"' in columns and '"status"' in columns
        assert '"instruction"' not in columns and '"reference_output"' not in columns
        # The planner knows how the statuses are spread.
        assert _fetched("SELECT 1 FROM pg_stats WHERE tablename = 'curation_seedtask' AND attname = 'status'")
