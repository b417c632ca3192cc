"""The embedded default under load: `make run`'s web server and worker on SQLite, no broker.

A project of 52,000 seed tasks (written through the import service); 8 clinicians each open an item,
autosave its draft twice, 2 s apart, and submit, item after item, while an admin uploads a
52,000-record file through the import page and then builds a release of all 104,000 tasks. Every
request is timed; afterwards the database is checked for every review submitted and every draft
last saved. Runs in its own temporary SQLite database, whatever DATABASE_URL names.
"""

import os
import tempfile
from pathlib import Path

from bench.embedded_load import run_load

TASKS = 52_000
IMPORT_RECORDS = 52_000
CLINICIANS = 8
ITEMS = 40
TARGET_SECONDS = 2.0


def run() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        load = run_load(
            workdir=Path(tmp), tasks=TASKS, import_records=IMPORT_RECORDS, clinicians=CLINICIANS, items=ITEMS
        )
    load_average = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lost = len(load.checked["lost_reviews"]) + len(load.checked["lost_drafts"])
    clinician_kinds = ("page", "draft", "submit")
    slowest = max(load.slowest(kind) for kind in clinician_kinds)
    measured = all(load.latencies.get(kind) for kind in clinician_kinds) and load.checked["releases"]
    met = bool(measured) and not load.failures and not lost and slowest < TARGET_SECONDS
    rows = "\n".join(
        f"| {kind} | {len(load.latencies.get(kind, []))} | {load.median(kind):.2f} | {load.p95(kind):.2f} "
        f"| {load.slowest(kind):.2f} |"
        for kind in (*clinician_kinds, "upload", "release", "poll")
    )
    failures = "".join(f"\n  - `{failure[:200]}`" for failure in load.failures[:5])
    return f"""## Embedded default under load: SQLite and the folder queue, as `make run` serves them

Setup: `python -m config.embedded` (runserver and a Celery worker, `--pool=threads --concurrency=2`,
`filesystem://` queue) on a fresh SQLite file (WAL, `BEGIN IMMEDIATE`, 20 s busy timeout) holding a
project of {load.setup["tasks"]:,} seed tasks. {CLINICIANS} clinicians each open an item, autosave
its draft twice 2 s apart and submit, item after item, while an admin uploads a {IMPORT_RECORDS:,}-record
JSONL through the import page (the worker imports it), polls its page, then builds an alpaca
release of every task in review (the worker writes it). The clinicians stop once both jobs are done.

| request | count | median s | p95 s | slowest s |
| --- | ---: | ---: | ---: | ---: |
{rows}

- Import: upload answered in {load.upload_seconds:.2f} s; the job finished {load.import_seconds:.1f} s after
  the upload began. Release built {load.release_seconds:.1f} s after it was asked for.
- Failed requests: **{len(load.failures)}**{failures}
- After the run: {len(load.submitted)} reviews submitted, {len(load.checked["lost_reviews"])} missing;
  {len(load.drafted)} drafts last saved, {len(load.checked["lost_drafts"])} missing or stale.
  Imports {load.checked["imports"]}, releases {load.checked["releases"]}.
- Load average at the end: {load_average} on {os.cpu_count()} cores (the machine was shared).

Target: no clinician request slower than {TARGET_SECONDS:.0f} s while the jobs run, 0 failed requests,
0 lost reviews or drafts. **{"Met" if met else "Not met"}** (slowest clinician request {slowest:.2f} s)."""
