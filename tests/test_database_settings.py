"""How Concord's database connections are set up on PostgreSQL."""

from django.db import connection

from tests.markers import on_postgres


@on_postgres
def test_postgresql_connections_run_without_jit_compilation(db):
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
