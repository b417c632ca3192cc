"""Refuse a 1 MB import file whose last record is nested 100,000 levels deep: time and peak memory.

Three ways in: a JSON array and a JSON Lines file through `import_file` (the CLI's path), and a
JSON array uploaded over the API (stored, then imported by the task the upload queues). Each file
holds real AlpaCare seed texts as Alpaca records up to about 1 MB, then one record whose `meta`
field is 100,000 arrays deep. Each run is a child process, so its peak RSS is the import's own.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests.data import SEED

DEPTH = 100_000
FILE_BYTES = 1_000_000
TARGET_SECONDS = 1.0
TARGET_RSS_MB = 150

CHILD = """
import json, resource, sys, time
from pathlib import Path
import django
django.setup()
from django.test import Client
from django.urls import reverse
from curation.models import ImportJob, SeedTask
from curation.services.imports import import_file
from tests.factories import CuratorFactory, ProjectFactory

way, path = sys.argv[1], Path(sys.argv[2])
project, curator = ProjectFactory(slug=f"bench-nesting-{way}"), CuratorFactory(email=f"{way}@bench.example.org")
client = Client()
client.force_login(curator)
if way == "upload":  # the first request loads every URL module (scipy among them): not the upload's cost
    assert client.get(reverse("api_import_list", args=[project.slug])).status_code == 200
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
if way == "upload":
    with open(path, "rb") as upload:
        response = client.post(reverse("api_import_list", args=[project.slug]), {"file": upload, "format": "alpaca"})
    assert response.status_code == 202, response.content
    job = ImportJob.objects.get(pk=response.json()["id"])
else:
    job = import_file(project=project, path=path, format="alpaca", created_by=curator)
seconds = time.perf_counter() - started
print(json.dumps({
    "status": job.status, "problems": job.problems, "written": SeedTask.objects.filter(project=project).count(),
    "seconds": seconds, "rss_before_mb": before / 1024,
    "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def _records(seeds: list[dict]):
    for i in range(10**9):
        seed = seeds[i % len(seeds)]
        yield {
            "instruction": f"{seed['instruction']} (case {i + 1})",
            "input": "" if seed["input"] == "<noinput>" else seed["input"],
            "output": seeds[(i * 7 + 3) % len(seeds)]["instruction"],
            "topic": seed["topic"],
        }


def _deep_record() -> bytes:
    return b'{"instruction": "Nested.", "output": "Nested.", "meta": ' + b"[" * DEPTH + b"]" * DEPTH + b"}"


def _generate(path: Path, *, lines: bool) -> tuple[int, int]:
    """Good records up to FILE_BYTES, then the deep one; returns the file's size and the deep record's number."""
    seeds = json.loads(SEED.read_text(encoding="utf-8"))
    deep = _deep_record()
    parts, size = [], len(deep) + 2
    for record in _records(seeds):
        text = json.dumps(record, ensure_ascii=False).encode()
        if size + len(text) + 2 > FILE_BYTES:
            break
        parts.append(text)
        size += len(text) + 2
    parts.append(deep)
    content = b"\n".join(parts) + b"\n" if lines else b"[\n" + b",\n".join(parts) + b"\n]\n"
    path.write_bytes(content)
    return len(content), len(parts)


def _run_child(way: str, path: Path, env: dict) -> dict:
    child = subprocess.run(
        [sys.executable, "-c", CHILD, way, str(path)],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        raise RuntimeError(f"the {way} process failed:\n{child.stderr[-4000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def run() -> str:
    if not SEED.exists():
        raise SystemExit(f"{SEED} is missing: the benchmark generates its files from the real seed texts")
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    if connection.vendor != "postgresql":
        database_url = f"sqlite:///{db['NAME']}"
    rows, verdicts = [], []
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "MEDIA_ROOT": str(Path(tmp) / "media"),
        }
        for way, label, lines in (
            ("array", "JSON array, `import_file`", False),
            ("jsonl", "JSON Lines, `import_file`", True),
            ("upload", "JSON array uploaded over the API", False),
        ):
            path = Path(tmp) / (f"{way}.jsonl" if lines else f"{way}.json")
            size, deep_number = _generate(path, lines=lines)
            result = _run_child(way, path, env)
            first = result["problems"][0] if result["problems"] else {}
            refused = result["status"] == "failed" and result["written"] == 0 and first.get("line") == deep_number
            if not refused or "nested more than" not in first.get("reason", ""):
                raise RuntimeError(f"the {label} was not refused for its depth: {result}")
            seconds, before, peak = result["seconds"], result["rss_before_mb"], result["rss_peak_mb"]
            verdicts.append(seconds < TARGET_SECONDS and peak - before < TARGET_RSS_MB)
            rows.append(
                f"| {label} | {size / 1e6:.2f} MB | {seconds:.3f} s | {before:.0f} MB | {peak:.0f} MB "
                f"| {peak - before:.0f} MB | {first['unit']} {first['line']}: {first['reason']} |"
            )
    load = os.getloadavg()[0]
    return "\n".join(
        [
            f"## Nesting: a 1 MB import file with a record {DEPTH:,} levels deep",
            "",
            f"Setup: about {FILE_BYTES / 1e6:.0f} MB of Alpaca records made from the real AlpaCare seed texts, the "
            f"last record's `meta` field {DEPTH:,} arrays deep; the import must refuse it (CONCORD_IMPORT_MAX_DEPTH, "
            "64 levels) without building it. JSON arrays are read as parser events and each record assembled with "
            "its depth and size counted; a JSON line's depth is found by a bracket scan before it is parsed. Each "
            "run is a child process with Django loaded (for the upload, its URL modules too, which a first request "
            "loads), so the growth of its peak RSS is the import's. Before this was bounded, the JSON array case "
            f"peaked at about 11 GB. Load average (1 min, {os.cpu_count()} cores) while measuring: {load:.1f}.",
            "",
            "| file | size | refused in | RSS before | peak RSS | import's share | first problem |",
            "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
            *rows,
            "",
            f"Target: refused in under {TARGET_SECONDS:.0f} s, the import adding under {TARGET_RSS_MB} MB to the peak "
            f"RSS, every way in: **{'met' if all(verdicts) else 'NOT met'}**.",
        ]
    )
