"""The review workspace with 50,000 seed tasks: next item, review page and submit, one client and fifty.

Single client: Django's test Client in the benchmark process (server time only, no network), for a
reviewer working through assigned items and for one claiming open items from the 50,000-task pool.
Fifty clients: gunicorn (2 workers x 16 threads) on 127.0.0.1 against the same database, driven by an
asyncio httpx client; each client is a different reviewer claiming items concurrently (the SKIP LOCKED
path), opening the page and submitting, for a bounded number of rounds. Afterwards the database is
checked: no item may have more than k reviewers.
"""

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.urls import reverse

from accounts.models import Role, User
from curation.models import Assignment, SeedTask, TaskStatus
from curation.services.assignments import assignments_create
from curation.services.members import project_member_add
from curation.services.projects import project_create
from curation.text.hashing import content_hash

TASKS = 50_000
REVIEWERS = 60  # 50 for the concurrent run, the rest for single-client runs and the batch assignment
SINGLE_ROUNDS = 200
CLIENTS, CLIENT_ROUNDS = 50, 12
K = 2
TARGET_P95_MS = 50.0
ANSWERS = {
    "a-decision": "accept",
    "a-clinical_validity": "4",
    "a-clarity": "4",
    "a-difficulty": "3",
    "a-comment": "Clear and correct.",
}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] if ordered else float("nan")


def _setup():
    curator = User.objects.create_user(email="bench-curator@concord.test", role=Role.CURATOR, name="Bench Curator")
    project = project_create(name="Review benchmark", slug="review-bench", created_by=curator)
    project.reviewers_per_item = K
    project.save(update_fields=["reviewers_per_item"])
    reviewers = [
        User.objects.create_user(email=f"reviewer{i}@concord.test", name=f"Reviewer {i}", role=Role.CLINICIAN)
        for i in range(REVIEWERS)
    ]
    for reviewer in reviewers:
        project_member_add(project=project, user=reviewer)
    started = time.perf_counter()
    batch = 5_000
    for offset in range(0, TASKS, batch):
        SeedTask.objects.bulk_create(
            SeedTask(
                project=project,
                instruction=f"Seed task {n}: explain the first-line management of condition {n} to a patient.",
                reference_output=f"Reference answer {n}: lifestyle measures first, then medication as indicated.",
                topic_raw="Cardiology",
                view_raw="Patient",
                task_type_raw="Open Q&A",
                difficulty=1 + n % 5,
                status=TaskStatus.IN_REVIEW,
                content_hash=content_hash(str(n)),
            )
            for n in range(offset, min(TASKS, offset + batch))
        )
    load_seconds = time.perf_counter() - started
    return project, curator, reviewers, load_seconds


def _single_client(project, reviewer, rounds: int) -> dict[str, list[float]]:
    client = Client()
    client.force_login(reviewer)
    timings: dict[str, list[float]] = {"next": [], "page": [], "submit": []}
    next_url = reverse("review_next", args=[project.slug])
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.post(next_url)
        timings["next"].append((time.perf_counter() - started) * 1000)
        location = response["Location"]
        started = time.perf_counter()
        page = client.get(location)
        timings["page"].append((time.perf_counter() - started) * 1000)
        assert page.status_code == 200, (location, page.status_code)
        started = time.perf_counter()
        submitted = client.post(location, {**ANSWERS, "submission_key": str(uuid.uuid4())})
        timings["submit"].append((time.perf_counter() - started) * 1000)
        assert submitted.status_code == 302, submitted.status_code
    return timings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


async def _drive(base: str, cookies: list[str], csrf: str, slug: str) -> tuple[dict[str, list[float]], list[str]]:
    import httpx

    timings: dict[str, list[float]] = {"next": [], "page": [], "submit": []}
    errors: list[str] = []
    limits = httpx.Limits(max_connections=CLIENTS)

    async def one(session: str) -> None:
        async with httpx.AsyncClient(
            base_url=base,
            cookies={"sessionid": session, "csrftoken": csrf},
            headers={"X-CSRFToken": csrf},
            follow_redirects=False,
            timeout=30,
            limits=limits,
        ) as http:
            for _ in range(CLIENT_ROUNDS):
                try:
                    started = time.perf_counter()
                    response = await http.post(f"/projects/{slug}/review/next/")
                    timings["next"].append((time.perf_counter() - started) * 1000)
                    if response.status_code != 302:
                        errors.append(f"next {response.status_code}")
                        continue
                    location = response.headers["location"]
                    if "/review/next" in location or location.rstrip("/").endswith("/review"):
                        break  # nothing left
                    started = time.perf_counter()
                    page = await http.get(location)
                    timings["page"].append((time.perf_counter() - started) * 1000)
                    if page.status_code != 200:
                        errors.append(f"page {page.status_code}")
                        continue
                    started = time.perf_counter()
                    submitted = await http.post(location, data={**ANSWERS, "submission_key": str(uuid.uuid4())})
                    timings["submit"].append((time.perf_counter() - started) * 1000)
                    if submitted.status_code != 302:
                        errors.append(f"submit {submitted.status_code}")
                except httpx.HTTPError as exc:
                    errors.append(type(exc).__name__)

    started = time.perf_counter()
    await asyncio.gather(*(one(cookie) for cookie in cookies))
    timings["wall"] = [(time.perf_counter() - started) * 1000]
    return timings, errors


def _wait_for_server(base: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited while starting")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s")


def _concurrent(project, reviewers) -> tuple[dict[str, list[float]], list[str]]:
    cookies = []
    for reviewer in reviewers:
        client = Client()
        client.force_login(reviewer)
        cookies.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    csrf = uuid.uuid4().hex  # a 32-character secret: Django accepts it unmasked in the header
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "DATABASE_CONN_MAX_AGE": "600",
        # The project's gunicorn settings (config/gunicorn.py), with twice its threads for fifty clients.
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "16",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
    }
    command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"]
    command += ["--log-level", "warning"]
    process = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(base, process)
        return asyncio.run(_drive(base, cookies, csrf, project.slug))
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _row(name: str, values: list[float]) -> str:
    return (
        f"| {name} | {len(values)} | {_pct(values, 50):.1f} | {_pct(values, 95):.1f} | {_pct(values, 99):.1f} "
        f"| {max(values):.1f} |"
    )


def run() -> str:
    project, curator, reviewers, load_seconds = _setup()
    concurrent_reviewers, assigned_reviewer, claiming_reviewer, batch_reviewers = (
        reviewers[:CLIENTS],
        reviewers[CLIENTS],
        reviewers[CLIENTS + 1],
        reviewers[CLIENTS + 2 :],
    )
    # A curator batch: the last 20,000 tasks to the remaining reviewers with k = 2 (timed).
    task_ids = list(SeedTask.objects.filter(project=project).order_by("-id").values_list("id", flat=True)[:20_000])
    started = time.perf_counter()
    batch = assignments_create(
        project=project,
        assigned_by=curator,
        reviewers=[*batch_reviewers, assigned_reviewer],
        k=K,
        seed_task_ids=task_ids,
    )
    assign_seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load in a deployment; without it the planner guesses blind.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    _single_client(project, assigned_reviewer, 5)  # warm-up
    load_before = os.getloadavg()[0]
    assigned = _single_client(project, assigned_reviewer, SINGLE_ROUNDS)
    claiming = _single_client(project, claiming_reviewer, SINGLE_ROUNDS)
    connection.close()  # the server processes open their own
    load_single = os.getloadavg()[0]
    concurrent, errors = _concurrent(project, concurrent_reviewers)

    over_k = (
        Assignment.objects.filter(project=project, status__in=["pending", "done"], seed_task__isnull=False)
        .values("seed_task")
        .annotate(n=Count("id"))
        .filter(n__gt=K)
        .count()
    )
    single_p95 = max(_pct(assigned["next"] + assigned["page"], 95), _pct(claiming["next"] + claiming["page"], 95))
    total_requests = sum(len(concurrent[k]) for k in ("next", "page", "submit"))
    wall = concurrent["wall"][0] / 1000
    lines = [
        "## Review workspace: next item and review page with 50,000 tasks",
        "",
        f"Setup: PostgreSQL, {TASKS:,} seed tasks in review in one project, {REVIEWERS} reviewers, k = {K}. "
        f"Tasks bulk-loaded in {load_seconds:.1f} s; a curator batch assigned {batch.created:,} assignments on "
        f"{batch.items:,} tasks (least loaded first, k = {K}) in {assign_seconds:.1f} s.",
        "",
        f"### One client, server time (Django test Client in-process, {SINGLE_ROUNDS} rounds each)",
        "",
        "| request (ms) | n | p50 | p95 | p99 | max |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        _row("next item, from my assigned items", assigned["next"]),
        _row("review page, assigned item", assigned["page"]),
        _row("submit + next (assigned)", assigned["submit"]),
        _row("next item, claimed from the open pool", claiming["next"]),
        _row("review page, claimed item", claiming["page"]),
        _row("submit + claim next", claiming["submit"]),
        "",
        f"Target: p95 of next item and review page under {TARGET_P95_MS:.0f} ms. "
        f"Worst p95 measured: {single_p95:.1f} ms: **{'met' if single_p95 < TARGET_P95_MS else 'not met'}**. "
        f"The machine's 1-minute load average was {load_before:.1f} before and {load_single:.1f} after these "
        f"runs on {os.cpu_count()} cores (other work shares it), so these are upper bounds.",
        "",
        f"### {CLIENTS} concurrent clients on loopback (gunicorn 2 workers x 16 threads, asyncio httpx)",
        "",
        f"Each client is a different reviewer with nothing assigned, so every next item is a concurrent claim "
        f"from the pool; up to {CLIENT_ROUNDS} rounds of next, page, submit each. {total_requests:,} requests "
        f"in {wall:.1f} s ({total_requests / wall:.0f} requests/s).",
        "",
        "| request (ms) | n | p50 | p95 | p99 | max |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        _row("next item (claim)", concurrent["next"]),
        _row("review page", concurrent["page"]),
        _row("submit + next", concurrent["submit"]),
        "",
        f"Errors: {len(errors)}{' (' + ', '.join(sorted(set(errors))) + ')' if errors else ''}. "
        f"Tasks with more than k = {K} reviewers afterwards: {over_k} (must be 0).",
        "",
        "Latency here is wall time as the clients see it, on a 2-core machine where the clients, the server "
        "and PostgreSQL share the CPUs; it includes queueing behind the 32 server threads.",
    ]
    return "\n".join(lines)
