"""Export 52,000 accepted, reviewed seed tasks as an alpaca release: wall time and peak memory.

The build runs in a fresh child process (as it would on a worker) so that its peak RSS is its own:
the child's VmHWM includes Python, Django and the app (a baseline the bench also measures in a
child that only imports and queries) plus whatever the export holds. Streaming means the
figure should not grow with the number of rows; the difference to the baseline is what the export
itself costs.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ITEMS = 52_000
REVIEWERS_PER_ITEM = 2
TARGET_SECONDS = 2.0
TARGET_RSS_MB = 150.0
# A build should take at most this many times as long as PostgreSQL's own COPY of the rows it writes.
TARGET_COPY_RATIO = 3.0

_CHILD = """
import json, os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
import django
django.setup()
from curation.models import Release
from curation.services.releases import release_build
release_id = int(sys.argv[1])
started = time.perf_counter()
if release_id:
    release = release_build(release_id=release_id)
    result = {"status": release.status, "rows": release.row_count, "sha256": release.sha256,
              "bytes": release.file_size, "error": release.error}
else:
    result = {"status": "baseline", "releases": Release.objects.count()}
result["seconds"] = time.perf_counter() - started
result["load"] = os.getloadavg()[0]
# VmHWM is this process's own peak RSS. ru_maxrss is not: on Linux it keeps the parent's peak across
# fork and exec, and the parent has just created 52,000 rows.
status = open("/proc/self/status").read()
result["maxrss_mb"] = int(status.split("VmHWM:")[1].split()[0]) / 1024
print(json.dumps(result))
"""


def _child(release_id: int, media_root: str) -> dict:
    from django.db import connection

    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
        if connection.vendor == "postgresql"
        else os.environ.get("DATABASE_URL", ""),
        "MEDIA_ROOT": media_root,
    }
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(release_id)], env=env, cwd=root, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _texts() -> list[tuple[str, str]]:
    from tests.data import SEED as seed

    if seed.exists():
        records = json.loads(seed.read_text(encoding="utf-8"))
        return [(r["instruction"], "" if r["input"].strip() == "<noinput>" else r["input"]) for r in records]
    return [("Explain the first-line treatment of hypertension.", "")]


def _populate() -> int:
    from django.db import transaction

    from accounts.models import Role, User
    from curation.models import PhiScan, Project, RatingSchema, Review, SchemaTarget, SeedTask, TaskStatus
    from curation.phi import SCANNER_VERSION
    from curation.schemas.defaults import SEED_REVIEW
    from curation.services.seed_tasks import seed_tasks_recount
    from curation.services.vocabulary import vocabulary_term_get_or_create
    from curation.text.hashing import content_hash

    texts = _texts()
    output = (
        "Begin with a focused history and examination, then confirm the diagnosis with the appropriate test. "
        "Explain the findings in plain words, agree a plan with the patient and arrange follow-up. "
    ) * 4
    with transaction.atomic():
        project = Project.objects.create(name="Bench exports", slug="bench-exports")
        schema = RatingSchema.objects.create(
            project=project, name="Seed review", target=SchemaTarget.SEED_TASK, definition=SEED_REVIEW
        )
        topics = [vocabulary_term_get_or_create(kind="topic", name=f"Topic {n}") for n in range(20)]
        views = [vocabulary_term_get_or_create(kind="view", name=name) for name in ("Patient", "Physician")]
        types = [vocabulary_term_get_or_create(kind="task_type", name=name) for name in ("Open Q&A", "Rewrite")]
        reviewers = [User.objects.create_user(f"bench{n}@example.org", role=Role.CLINICIAN) for n in range(12)]
        tasks = []
        for n in range(ITEMS):
            instruction, input_text = texts[n % len(texts)]
            instruction = f"{instruction} (variant {n})"
            tasks.append(
                SeedTask(
                    project=project,
                    instruction=instruction,
                    input=input_text,
                    reference_output=output,
                    topic=topics[n % len(topics)],
                    topic_raw=topics[n % len(topics)].name,
                    view=views[n % 2],
                    view_raw=views[n % 2].name,
                    task_type=types[n % 2],
                    task_type_raw=types[n % 2].name,
                    difficulty=1 + n % 5,
                    status=TaskStatus.ACCEPTED,
                    accepted_version=1,
                    content_hash=content_hash(instruction, input_text, output),
                )
            )
        SeedTask.objects.bulk_create(tasks, batch_size=5000)
        ids = list(SeedTask.objects.filter(project=project).order_by("id").values_list("id", flat=True))
        answers = {"decision": "accept", "clinical_validity": 4, "clarity": 5, "difficulty": 3}
        Review.objects.bulk_create(
            (
                Review(
                    project=project,
                    schema=schema,
                    reviewer=reviewers[(i + k) % len(reviewers)],
                    seed_task_id=task_id,
                    answers=answers,
                )
                for i, task_id in enumerate(ids)
                for k in range(REVIEWERS_PER_ITEM)
            ),
            batch_size=5000,
        )
        # A release leaves out texts nobody scanned for PHI. This benchmark measures the export, not the scan
        # (bench_phi measures that), so the texts are recorded as scanned and clean, as the scan would leave them.
        PhiScan.objects.bulk_create(
            (
                PhiScan(project=project, seed_task_id=task_id, content_hash=digest, scanner_version=SCANNER_VERSION)
                for task_id, digest in SeedTask.objects.filter(project=project).values_list("id", "content_hash")
            ),
            batch_size=5000,
        )
        PhiScan.objects.bulk_create(
            (
                PhiScan(project=project, review_id=review_id, scanner_version=SCANNER_VERSION)
                for review_id in Review.objects.filter(project=project).values_list("id", flat=True)
            ),
            batch_size=5000,
        )
        # Tasks written in bulk, past the services that keep the counts a topic filter reads: count them once.
        seed_tasks_recount(project=project)
    return project.pk


def _copy_floor(project_id: int) -> float | None:
    """The floor a build is compared with: the best of three PostgreSQL COPYs of the columns the release's
    rows are made of, in id order, read whole by this process (None on another database)."""
    from django.db import connection

    from curation.models import SeedTask

    if connection.vendor != "postgresql":
        return None
    columns = (
        "id, instruction, input, reference_output, topic_raw, view_raw, task_type_raw, difficulty, version, origin_file"
    )
    sql = f"COPY (SELECT {columns} FROM {SeedTask._meta.db_table} WHERE project_id = %s ORDER BY id) TO STDOUT"
    times = []
    with connection.cursor() as cursor:
        for _ in range(3):
            started = time.perf_counter()
            with cursor.cursor.copy(sql, [project_id]) as copy:
                for _block in copy:
                    pass
            times.append(time.perf_counter() - started)
    return min(times)


def _times(seconds: float, floor: float | None) -> str:
    return f"{seconds / floor:.1f}x" if floor else "n/a"


def _describe(filters: dict) -> str:
    extra = ", ".join(f"{name} {value}" for name, value in filters.items())
    return "accepted" + (f", {extra}" if extra else "") + " (default)" * (not filters)


def run() -> str:
    from django.db import connection

    from curation.models import Project
    from curation.services.releases import release_create

    started = time.perf_counter()
    project = Project.objects.get(pk=_populate())
    populate_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")

    floor = _copy_floor(project.pk)
    with tempfile.TemporaryDirectory() as media_root:
        baseline = _child(0, media_root)
        runs = []
        for filters in ({}, {}, {"min_reviewers": REVIEWERS_PER_ITEM}):
            release = release_create(project=project, created_by=None, format="alpaca", filters=filters, enqueue=False)
            runs.append({**_child(release.pk, media_root), "filters": filters})

    for result in runs:
        assert result["status"] == "succeeded", result
        assert result["rows"] == ITEMS, result
    worst = max(r["seconds"] for r in runs)
    peak = max(r["maxrss_mb"] for r in runs)
    identical = runs[0]["sha256"] == runs[1]["sha256"] == runs[2]["sha256"]
    ratio = worst / floor if floor else None
    met = worst < TARGET_SECONDS and peak < TARGET_RSS_MB and (ratio is None or ratio <= TARGET_COPY_RATIO)
    rows = "\n".join(
        f"| {n} | {_describe(r['filters'])} | {r['seconds']:.2f} s "
        f"| {_times(r['seconds'], floor)} | {r['load']:.1f} | {r['maxrss_mb']:.0f} MB "
        f"| {r['bytes'] / 1e6:.1f} MB | `{r['sha256'][:12]}…` |"
        for n, r in enumerate(runs, start=1)
    )
    floor_text = (
        f"PostgreSQL's own COPY of the columns the rows are made of (id order, read whole by the bench "
        f"process, best of 3) took **{floor:.2f} s** in the same run: the floor the builds are compared with."
        if floor
        else "No COPY floor: the database is not PostgreSQL."
    )
    return f"""## Exports: 52,000 accepted items as an alpaca release

Setup: {ITEMS:,} accepted seed tasks (AlpaCare instructions cycled, ~800-character outputs, 20 topics)
with {REVIEWERS_PER_ITEM} current reviews each ({ITEMS * REVIEWERS_PER_ITEM:,} reviews), created with
`bulk_create` in {populate_seconds:.1f} s. Each run builds one `alpaca` release through
`curation.services.releases.release_build` in a fresh child process, as a worker would: one REPEATABLE
READ snapshot, a server-side cursor read in chunks of 2,000, the data file and the dataset card written
to a hidden directory and renamed into place. Peak RSS is the child's VmHWM;
a child that only starts Django and runs one query peaks at {baseline["maxrss_mb"]:.0f} MB, so the export
itself adds about {peak - baseline["maxrss_mb"]:.0f} MB.

{floor_text}

| run | definition | wall time | vs COPY | load (1 min) | peak RSS | file | sha256 |
| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |
{rows}

All runs wrote byte-identical files (every item has {REVIEWERS_PER_ITEM} reviewers, so the filter keeps them all):
{"yes" if identical else "NO"}. The machine was shared with other jobs while measuring (load average
{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end), so wall times are upper bounds.

Target: under {TARGET_SECONDS:.0f} s, within {TARGET_COPY_RATIO:.0f}x of the COPY floor, and under
{TARGET_RSS_MB:.0f} MB peak RSS. **{"Met" if met else "Not met"}** (slowest {worst:.2f} s, {_times(worst, floor)}
the floor; peak {peak:.0f} MB)."""
