"""Import a 52,000-record Alpaca JSONL (MedInstruct-52k scale) into PostgreSQL through the import service.

The file is generated from the real AlpaCare seed texts (../shared/data/alpacare/med_seed.json):
every record is a seed's instruction and input with a case number, its output another seed's text,
and the seed's topic, view, type and difficulty as metadata, so the vocabulary is linked as in a real
import. The import runs in a child process so that its peak RSS is the import's own.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests.data import SEED

RECORDS = 52_000
TARGET_SECONDS = 10.0
TARGET_RSS_MB = 300

CHILD = """
import json, resource, sys, time
import django
django.setup()
from curation.services.imports import import_file
from tests.factories import CuratorFactory, ProjectFactory

from unittest import mock
from curation.services.phi import phi_scan_run_execute
from curation.services.seed_task_search import seed_task_search_import_index

def status_kb(field):
    # This process's own figures: ru_maxrss is not, as on Linux it keeps the parent's peak across fork and
    # exec (a benchmark process holding a scale database's fixture showed as a 371-421 MB import peak).
    return int(open("/proc/self/status").read().split(field + ":")[1].split()[0])

project, curator = ProjectFactory(slug="bench-imports"), CuratorFactory()
usage = resource.getrusage(resource.RUSAGE_SELF)
before, cpu_before = status_kb("VmRSS"), usage.ru_utime + usage.ru_stime
# The PHI scan and the search documents an import queues are built on the worker afterwards; the test
# settings would run them inside import_file, so they are held here and timed on their own after the import.
with (
    mock.patch("curation.jobs.phi_scan_task.delay") as scan_queued,
    mock.patch("curation.jobs.seed_task_search_task.delay") as search_queued,
):
    started = time.perf_counter()
    job = import_file(project=project, path=sys.argv[1], created_by=curator)
    seconds = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu, peak = usage.ru_utime + usage.ru_stime - cpu_before, status_kb("VmHWM")
search_started = time.perf_counter()
documents = sum(seed_task_search_import_index(import_job_id=call.args[0]) for call in search_queued.call_args_list)
search_seconds = time.perf_counter() - search_started
scan_started = time.perf_counter()
for call in scan_queued.call_args_list:
    phi_scan_run_execute(run_id=call.args[0])
scan_seconds = time.perf_counter() - scan_started
again_started = time.perf_counter()
again = import_file(project=project, path=sys.argv[1], created_by=curator)
print(json.dumps({
    "status": job.status, "problems": job.problems[:3], "written": job.records_written,
    "validated": job.records_validated, "seconds": seconds, "cpu": cpu,
    "rss_before_mb": before / 1024, "rss_peak_mb": peak / 1024, "scan_seconds": scan_seconds,
    "scans_queued": scan_queued.call_count, "search_seconds": search_seconds, "search_documents": documents,
    "again_status": again.status, "again_seconds": time.perf_counter() - again_started,
}))
"""


def _generate(path: Path) -> int:
    seeds = json.loads(SEED.read_text(encoding="utf-8"))
    with open(path, "w", encoding="utf-8") as out:
        for i in range(RECORDS):
            seed, other = seeds[i % len(seeds)], seeds[(i * 7 + 3) % len(seeds)]
            record = {
                "instruction": f"{seed['instruction']} (case {i + 1})",
                "input": "" if seed["input"] == "<noinput>" else seed["input"],
                "output": f"{other['instruction']} {other['input']}".replace("<noinput>", "").strip(),
                "topic": seed["topic"],
                "view": seed["view"],
                "type": seed["type"],
                "difficulty": seed["difficulty"],
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path.stat().st_size


def run() -> str:
    if not SEED.exists():
        raise SystemExit(f"{SEED} is missing: the benchmark generates its file from the real seed texts")
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    if connection.vendor != "postgresql":
        database_url = f"sqlite:///{db['NAME']}"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "medinstruct-52k-like.jsonl"
        started = time.perf_counter()
        size = _generate(path)
        generated = time.perf_counter() - started
        env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
        child = subprocess.run(
            [sys.executable, "-c", CHILD, str(path)],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if child.returncode != 0:
        raise RuntimeError(f"the import process failed:\n{child.stderr[-4000:]}")
    load = os.getloadavg()[0]
    result = json.loads(child.stdout.strip().splitlines()[-1])
    if result["status"] != "succeeded" or result["written"] != RECORDS:
        raise RuntimeError(f"the import did not write every record: {result}")
    seconds, peak = result["seconds"], result["rss_peak_mb"]
    fast, small = seconds < TARGET_SECONDS, peak < TARGET_RSS_MB
    return "\n".join(
        [
            "## Imports: a 52,000-record Alpaca JSONL",
            "",
            f"Setup: {RECORDS:,} records ({size / 1e6:.1f} MB, generated in {generated:.1f} s from the 167 real "
            "AlpaCare seed texts, with topic, view, type and difficulty) imported into an empty project through "
            "`import_file`, the service behind the upload page, the API and `import_items`: SHA-256 of the file; "
            "pass 1 validates every record (streamed) and spools it to a temporary file; pass 2, in one "
            "transaction, links vocabulary and writes the seed tasks with COPY in batches of 2,000, then their "
            "history rows with one INSERT ... SELECT. The tasks' full-text search documents are not built in "
            "that transaction but by a job after it (INSERT ... SELECT to_tsvector in batches of 5,000 ids), "
            "timed below on its own. Run in a child process so that the peak RSS is the "
            "import's. The machine was shared with other work, hence the load average.",
            "",
            "| measure | value |",
            "| --- | ---: |",
            f"| end to end | {seconds:.2f} s |",
            f"| records per second | {RECORDS / seconds:,.0f} |",
            f"| then the PHI scan of its texts (a job on the worker, not part of the import) | "
            f"{result['scan_seconds']:.1f} s |",
            f"| then the search documents of its tasks (a job on the worker, not part of the import: "
            f"{result['search_documents']:,} built) | {result['search_seconds']:.1f} s |",
            f"| CPU time of the importing process (the rest is PostgreSQL and waiting) | {result['cpu']:.2f} s |",
            f"| load average while measuring (1 min, {os.cpu_count()} cores) | {load:.1f} |",
            f"| peak RSS (process, Django loaded) | {peak:.0f} MB |",
            f"| RSS before the import | {result['rss_before_mb']:.0f} MB |",
            f"| re-import of the same file (recognised by hash, nothing written) | {result['again_seconds']:.2f} s |",
            "",
            f"- Time: **{seconds:.2f} s** (target < {TARGET_SECONDS:.0f} s: {'met' if fast else 'NOT met'}).",
            f"- Peak RSS: **{peak:.0f} MB** (target < {TARGET_RSS_MB} MB: {'met' if small else 'NOT met'}).",
        ]
    )
