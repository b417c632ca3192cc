"""Import and export of 52,000 records against PostgreSQL's own COPY of the same rows, in one run.

The floor is COPY of the seed-task columns of the 52,000 records in (from a buffer already in the
database's text format, into a table shaped like the seed tasks) and out (to the client, read whole).
Concord's import is bench_imports' child process (import_file on the generated Alpaca JSONL); its
export is bench_exports' child process (release_build of 52,000 accepted items).
"""

import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from bench import bench_exports, bench_imports

COLUMNS = ("instruction", "input", "reference_output", "topic_raw", "view_raw", "task_type_raw", "difficulty")


def _copy_in(path: Path) -> tuple[float, int]:
    buffer = io.BytesIO()
    rows = 0
    with open(path, encoding="utf-8") as records:
        for line in records:
            r = json.loads(line)
            values = (r["instruction"], r["input"], r["output"], r["topic"], r["view"], r["type"], r["difficulty"])
            escaped = (str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n") for v in values)
            buffer.write(("\t".join(escaped) + "\n").encode())
            rows += 1
    data = buffer.getvalue()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_copy_floor (id bigserial PRIMARY KEY, instruction text, input text, "
            "reference_output text, topic_raw varchar(200), view_raw varchar(200), task_type_raw varchar(200), "
            "difficulty smallint)"
        )
    connection.ensure_connection()
    started = time.perf_counter()
    sql = f"COPY bench_copy_floor ({', '.join(COLUMNS)}) FROM STDIN"
    with connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
        for offset in range(0, len(data), 1 << 20):
            copy.write(data[offset : offset + (1 << 20)])
    return time.perf_counter() - started, rows


def _copy_out() -> tuple[float, int]:
    connection.ensure_connection()
    started = time.perf_counter()
    size = 0
    sql = f"COPY bench_copy_floor ({', '.join(COLUMNS)}) TO STDOUT"
    with connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
        for block in copy:
            size += len(block)
    return time.perf_counter() - started, size


def _import(path: Path) -> dict:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    child = subprocess.run(
        [sys.executable, "-c", bench_imports.CHILD, str(path)],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        raise RuntimeError(f"the import process failed:\n{child.stderr[-4000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def measure() -> dict:
    """Both floors, the import and the export, with the load average at each."""
    from curation.models import Project
    from curation.services.releases import release_create

    result: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "records.jsonl"
        bench_imports._generate(path)
        result["copy_in"], result["rows"] = _copy_in(path)
        result["copy_in_load"] = os.getloadavg()[0]
        result["copy_out"], result["copy_out_bytes"] = _copy_out()
        result["copy_out_load"] = os.getloadavg()[0]
        result["import"] = _import(path)
        result["import_load"] = os.getloadavg()[0]
    project = Project.objects.get(pk=bench_exports._populate())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    with tempfile.TemporaryDirectory() as media_root:
        release = release_create(project=project, created_by=None, format="alpaca", filters={}, enqueue=False)
        result["export"] = bench_exports._child(release.pk, media_root)
        result["export_baseline"] = bench_exports._child(0, media_root)
    result["export_load"] = os.getloadavg()[0]
    if result["export"]["status"] != "succeeded" or result["export"]["rows"] != bench_exports.ITEMS:
        raise RuntimeError(f"the export did not write every item: {result['export']}")
    if result["import"]["status"] != "succeeded":
        raise RuntimeError(f"the import did not succeed: {result['import']}")
    return result
