"""After an import, PostgreSQL's planner statistics of the imported tables are fresh."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from curation.services.database import imported_tables_analyze
from tests.scale import grow


def test_imported_tables_are_analysed_on_postgresql_and_nothing_is_done_on_sqlite(project):
    grow(project, [], 30)
    with CaptureQueriesContext(connection) as captured:
        imported_tables_analyze()
    statements = [q["sql"] for q in captured.captured_queries]
    if connection.vendor != "postgresql":
        assert statements == []
        return
    assert statements == [
        'ANALYZE "curation_seedtask"',
        'ANALYZE "curation_historicalseedtask"',
        'ANALYZE "curation_prompt"',
        'ANALYZE "curation_modelresponse"',
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'curation_seedtask'")
        assert cursor.fetchone()[0] >= 30  # the planner now knows the rows the test just wrote
