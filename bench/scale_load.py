"""Throughput and memory on the scale database: gunicorn on loopback driven by wrk and by fifty reviewers.

gunicorn runs bench.scale_settings (the test settings plus a SELECT 1 view, the floor) with the
project's own gunicorn settings (config/gunicorn.py) for a 2-core machine: 2 gthread workers (one per
core; PostgreSQL and the load generator share the same cores, so more processes only queue) x 8
threads each, 16 requests in flight, keep-alive 60 s, the application and the PHI scanner loaded in the
master before the workers fork; persistent database connections. wrk drives each endpoint for a fixed
time from 10 connections, each its own signed-in user where the endpoint is per user.
"""

import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

WORKERS, THREADS = 2, 8
GUNICORN = ["-c", "config/gunicorn.py", "--log-level", "warning"]
WRK_SECONDS = 20
CONNECTIONS = 10
CSRF = uuid.uuid4().hex  # a 32-character secret: Django accepts it unmasked in the header

_LUA = """
local cookies = {cookies}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("cookie", cookies[(counter - 1) % #cookies + 1])
end
function init(args)
  req = wrk.format("{method}", "{path}", {{["Cookie"] = cookie, ["X-CSRFToken"] = "{csrf}"}}, nil)
end
function request() return req end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {{"requests": %d, "seconds": %f, "errors": %d, "bad_status": %d, ' ..
    '"p50": %f, "p95": %f, "p99": %f}}\\n', summary.requests, summary.duration / 1e6,
    e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}; csrftoken={CSRF}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def _pss_mb(pid: int) -> float:
    """The process's proportional share: its own pages, plus each page it shares divided by the number of
    processes sharing it. The workers share what the master loaded before forking, which RSS counts in full
    in every one of them; the tier's PSS is what the three processes take together."""
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    return int(rollup.split("\nPss:")[1].split()[0]) / 1024


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


class Server:
    """gunicorn on 127.0.0.1 against `database_url`, for the block."""

    def __init__(self, database_url: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.scale_settings",
            "DATABASE_URL": database_url,
            "DATABASE_CONN_MAX_AGE": "600",
            "WEB_CONCURRENCY": str(WORKERS),
            "GUNICORN_THREADS": str(THREADS),
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
        }
        command = [sys.executable, "-m", "gunicorn", "config.wsgi:application"]
        self.process = subprocess.Popen([*command, *GUNICORN], env=env, cwd=settings.BASE_DIR)

    def __enter__(self) -> "Server":
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited while starting")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def memory(self) -> dict[str, float]:
        pids = _children(self.process.pid)
        workers = [_rss_mb(pid) for pid in pids]
        master = _rss_mb(self.process.pid)
        pss = [_pss_mb(pid) for pid in pids]
        return {
            "worker_max": max(workers),
            "workers": workers,
            "master": master,
            "tier": master + sum(workers),
            "worker_pss_max": max(pss),
            "tier_pss": _pss_mb(self.process.pid) + sum(pss),
        }


def wrk(server: Server, path: str, cookies: list[str], *, method: str = "GET", seconds: int = WRK_SECONDS) -> dict:
    """wrk from CONNECTIONS connections (one thread each) for `seconds`; latencies in ms."""
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
    lua = _LUA.format(cookies="{" + ", ".join(f'"{c}"' for c in cookies) + "}", method=method, path=path, csrf=CSRF)
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(lua)
        script.flush()
        load_before = os.getloadavg()[0]
        out = subprocess.run(
            ["wrk", f"-t{CONNECTIONS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "-s", script.name, server.base],
            capture_output=True,
            text=True,
            check=True,
        )
    result = json.loads(out.stdout.split("WRK ", 1)[1].splitlines()[0])
    result["rate"] = result["requests"] / result["seconds"]
    result["load"] = max(load_before, os.getloadavg()[0])
    return result


def reviewers_concurrent(server: Server, cookies: list[str], slug: str) -> tuple[dict, list[str], float]:
    """Fifty reviewers with nothing assigned claim, open and submit items at once (bench_review's clients)."""
    from bench.bench_review import _drive

    session_ids = [c.split(";")[0].split("=", 1)[1] for c in cookies]
    load_before = os.getloadavg()[0]
    timings, errors = asyncio.run(_drive(server.base, session_ids, CSRF, slug))
    return timings, errors, max(load_before, os.getloadavg()[0])


def pool_reviewers(project, n: int) -> list:
    """n members with nothing assigned (made once, kept with the database): every next item is a claim.

    What they did in an earlier run is removed first (their reviews with their PHI scans, assignments and
    counts), so that every run measures the first claims after the curator's assignments: the kept database
    would otherwise start each run where the last one stopped, past the items the curator filled."""
    from accounts.models import Role
    from curation.models import Assignment, AssignmentCount, Membership, Review

    users = []
    for i in range(n):
        user, _ = get_user_model().objects.get_or_create(
            email=f"pool{i}@scale.test", defaults={"name": f"Pool reviewer {i}", "role": Role.CLINICIAN}
        )
        Membership.objects.get_or_create(project=project, user=user)
        users.append(user)
    Review.objects.filter(reviewer__in=users).delete()
    Assignment.objects.filter(reviewer__in=users).delete()
    AssignmentCount.objects.filter(reviewer__in=users).delete()
    return users


def celery_idle_rss(database_url: str) -> float:
    """RSS of a Celery worker (solo pool) once it is ready and idle."""
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "worker.log"
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-f", str(log)]
        process = subprocess.Popen([*command, "--loglevel", "INFO"], env=env, cwd=settings.BASE_DIR)
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and not (log.exists() and "ready." in log.read_text()):
                if process.poll() is not None:
                    raise RuntimeError(f"the Celery worker exited: {log.read_text()[-2000:] if log.exists() else ''}")
                time.sleep(0.5)
            time.sleep(3)
            return _rss_mb(process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def manage_start_seconds(database_url: str, runs: int = 5) -> float:
    """Median wall time of `manage.py check`: Python, Django, every app and the URLconf loaded.

    With the project's bytecode compiled first, as an installed deployment has it (the Dockerfile compiles
    it): a shell with PYTHONDONTWRITEBYTECODE set would otherwise compile every module on every start.
    """
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    packages = ["accounts", "audit", "config", "curation", "manage.py"]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], cwd=settings.BASE_DIR, check=True)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "manage.py", "check"], env=env, cwd=settings.BASE_DIR, check=True, capture_output=True
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)
