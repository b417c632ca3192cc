"""After an import, PostgreSQL's planner statistics of the tables it wrote are fresh."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from curation.services.database import imported_tables_analyze
from tests.scale import grow


def _analysed(**kwargs) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        imported_tables_analyze(**kwargs)
    return [q["sql"] for q in captured.captured_queries]


def test_imported_tables_are_analysed_on_postgresql_and_nothing_is_done_on_sqlite(project):
    grow(project, [], 30)
    statements = _analysed()
    if connection.vendor != "postgresql":
        assert statements == []
        return
    assert [s.split(" (")[0] for s in statements] == [
        'ANALYZE "curation_seedtask"',
        'ANALYZE "curation_historicalseedtask"',
        'ANALYZE "curation_prompt"',
        'ANALYZE "curation_modelresponse"',
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'curation_seedtask'")
        assert cursor.fetchone()[0] >= 30  # the planner now knows the rows the test just wrote


def test_only_the_tables_an_import_wrote_are_analysed_and_not_their_long_texts(project):
    grow(project, [], 30)
    statements = _analysed(created={"seed_tasks": 30, "prompts": 0})
    if connection.vendor != "postgresql":
        assert statements == []
        return
    assert [s.split(" (")[0] for s in statements] == [
        'ANALYZE "curation_seedtask"',
        'ANALYZE "curation_historicalseedtask"',
    ]
    columns = statements[0].split(" (", 1)[1]
    assert '"project_id"' in columns and '"status"' in columns
    assert '"instruction"' not in columns and '"reference_output"' not in columns
    with connection.cursor() as cursor:
        cursor.execute("SELECT attname FROM pg_stats WHERE tablename = 'curation_seedtask' AND attname = 'status'")
        assert cursor.fetchone() is not None  # the planner knows how the statuses are spread
