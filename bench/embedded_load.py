"""Load on the embedded default as `make run` serves it: clinicians autosave and submit while an admin
imports a large file and builds a release. Used by bench/bench_embedded.py and tests/embedded.

Everything runs in child processes against a fresh SQLite file, job folder and cache folder in a
temporary directory: `python -m config.embedded` (web server and worker), and two setup scripts.
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent

SETUP = """
import json, sys
import django
django.setup()
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from curation.models import Assignment, PhiScan, SeedTask
from curation.models.phi import PhiScanRun, PhiScanRunStatus
from curation.phi import SCANNER_VERSION
from curation.services.assignments import assignment_counts_recount
from curation.services.imports import import_file
from tests.factories import AdminFactory, ClinicianFactory, MembershipFactory, ProjectFactory

path, clinicians, items = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
project, admin = ProjectFactory(slug="load"), AdminFactory(email="admin@load.test")
job = import_file(project=project, path=path, created_by=admin)
assert job.status == "succeeded", (job.status, job.problems[:3])
# A project in use has had its texts scanned for PHI. Recorded here as the scan leaves clean texts, and its
# queued run marked done: the worker would otherwise spend the load rescanning the setup's tasks. The
# upload's own scan runs on the worker during the load, as it would.
scans = SeedTask.objects.filter(project=project).values_list("id", "content_hash")
PhiScan.objects.bulk_create(
    (PhiScan(project=project, seed_task_id=pk, content_hash=h, scanner_version=SCANNER_VERSION) for pk, h in scans),
    batch_size=5000,
)
PhiScanRun.objects.filter(import_job=job).update(status=PhiScanRunStatus.DONE)
tasks = list(SeedTask.objects.filter(project=project).order_by("pk").values_list("pk", flat=True)[: clinicians * items])

def session(user):
    store = SessionStore()
    store[SESSION_KEY], store[BACKEND_SESSION_KEY] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key

people = []
for n in range(clinicians):
    user = ClinicianFactory(email=f"clinician{n}@load.test")
    MembershipFactory(project=project, user=user)
    mine = Assignment.objects.bulk_create(
        [Assignment(project=project, seed_task_id=pk, reviewer=user) for pk in tasks[n * items : (n + 1) * items]]
    )
    people.append({"session": session(user), "assignments": [a.pk for a in mine]})
# Assignments written in bulk here, past the services that keep each reviewer's counts: count them once.
assignment_counts_recount(project=project)
print(json.dumps({"project": project.slug, "tasks": SeedTask.objects.filter(project=project).count(),
                  "import_seconds": job.report["seconds"], "admin": session(admin), "clinicians": people}))
"""

CHECK = """
import json, sys
import django
django.setup()
from curation.models import ImportJob, Release, Review, ReviewDraft
expected = json.loads(sys.stdin.read())
reviews = set(Review.objects.filter(assignment_id__in=expected["submitted"]).values_list("assignment_id", flat=True))
drafts = {d.assignment_id: d.answers for d in ReviewDraft.objects.filter(assignment_id__in=list(expected["drafted"]))}
lost_drafts = [pk for pk, comment in expected["drafted"].items() if drafts.get(int(pk), {}).get("comment") != comment]
print(json.dumps({
    "lost_reviews": sorted(set(expected["submitted"]) - reviews),
    "lost_drafts": lost_drafts,
    "imports": list(ImportJob.objects.order_by("pk").values_list("status", "records_written")),
    "releases": list(Release.objects.values_list("status", flat=True)),
}))
"""


# The issue's size: a 52,000-task project; 20 clinicians autosave every 2 s and submit for 60 s while a curator
# imports a 50,000-record file and builds a release. Each clinician has more items than 60 s can take.
ISSUE_SIZE = {
    "tasks": 52_000,
    "import_records": 50_000,
    "clinicians": 20,
    "items": 40,
    "autosave_every": 2.0,
    "min_seconds": 60.0,
}


@dataclass
class Load:
    """What happened: every request's seconds and outcome, and what the database kept."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    submitted: list[int] = field(default_factory=list)
    drafted: dict[str, str] = field(default_factory=dict)
    import_seconds: float = 0.0
    upload_seconds: float = 0.0
    release_seconds: float = 0.0
    checked: dict = field(default_factory=dict)
    setup: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float, failure: str | None = None) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            if failure:
                self.failures.append(failure)

    def slowest(self, kind: str) -> float:
        return max(self.latencies.get(kind, [0.0]))

    def p95(self, kind: str) -> float:
        values = sorted(self.latencies.get(kind, [0.0]))
        return values[min(len(values) - 1, int(0.95 * len(values)))]

    def median(self, kind: str) -> float:
        return statistics.median(self.latencies.get(kind, [0.0]))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def embedded_environment(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CELERY_", "CACHE_URL"))}
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DEBUG": "false",
        "DATABASE_URL": f"sqlite:///{workdir / 'concord.sqlite3'}",
        "CONCORD_JOBS_DIR": str(workdir / "jobs"),
        "CONCORD_CACHE_DIR": str(workdir / "cache"),
        "MEDIA_ROOT": str(workdir / "media"),
        "PYTHONPATH": str(ROOT),
    }


def write_records(path: Path, records: int, *, tag: str) -> None:
    """An Alpaca JSONL of distinct records (the tag keeps two files' records apart)."""
    with open(path, "w", encoding="utf-8") as out:
        for i in range(records):
            record = {
                "instruction": f"Explain finding {i} of series {tag} to a patient in plain words.",
                "input": f"Patient {i}: a {20 + i % 60}-year-old with a {tag} finding.",
                "output": f"Finding {i} of series {tag} means the test showed a change worth a follow-up visit.",
                "topic": ["Cardiology", "Dermatology", "Neurology"][i % 3],
            }
            out.write(json.dumps(record) + "\n")


class Session:
    def __init__(self, base: str, session_key: str, load: Load, first_page: str):
        self.base = base
        self.http = requests.Session()
        self.http.cookies.set("sessionid", session_key)
        self.timed(load, "page", "GET", first_page)  # sets the CSRF cookie
        self.http.headers.update({"X-CSRFToken": self.http.cookies.get("csrftoken", ""), "Referer": base})

    def timed(self, load: Load, kind: str, method: str, path: str, **kwargs) -> requests.Response | None:
        started = time.perf_counter()
        try:
            response = self.http.request(method, f"{self.base}{path}", allow_redirects=False, timeout=60, **kwargs)
        except requests.RequestException as exc:
            load.record(kind, time.perf_counter() - started, f"{kind} {path}: {exc}")
            return None
        seconds = time.perf_counter() - started
        bad = response.status_code >= 400 or (kind == "draft" and "Draft not saved" in response.text)
        load.record(kind, seconds, f"{kind} {path}: {response.status_code} {response.text[:160]!r}" if bad else None)
        return None if bad else response


def _clinician(load: Load, base: str, slug: str, person: dict, stop: threading.Event, autosave_every: float):
    session = Session(base, person["session"], load, f"/projects/{slug}/review/")
    for assignment in person["assignments"]:
        if stop.is_set():
            return
        item = f"/projects/{slug}/review/{assignment}/"
        session.timed(load, "page", "GET", item)
        answers = {"decision": "accept", "clinical_validity": "4", "clarity": "5", "difficulty": "2"}
        for step in range(2):
            time.sleep(autosave_every)
            draft = {"comment": f"checked {step} at {time.time():.3f}"}
            posted = {f"a-{key}": value for key, value in {**answers, **draft}.items()}
            if session.timed(load, "draft", "POST", f"{item}draft/", data=posted, headers={"HX-Request": "true"}):
                with load.lock:
                    load.drafted[str(assignment)] = draft["comment"]
        if stop.is_set():  # the last item keeps its draft: checked after the run
            return
        posted = {f"a-{key}": value for key, value in answers.items()} | {"submission_key": str(uuid.uuid4())}
        if session.timed(load, "submit", "POST", item, data=posted):
            with load.lock:
                load.submitted.append(assignment)
                load.drafted.pop(str(assignment), None)


def _poll(session: Session, load: Load, path: str, done: tuple[str, ...], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = session.timed(load, "poll", "GET", path)
        text = response.text.lower() if response is not None else ""
        for word in done:
            if word in text:
                return word
        time.sleep(1.0)
    return "timed out"


def _admin(load: Load, base: str, slug: str, session_key: str, import_file: Path, timeout: float) -> None:
    session = Session(base, session_key, load, f"/projects/{slug}/imports/")
    started = time.perf_counter()
    with open(import_file, "rb") as handle:
        response = session.timed(load, "upload", "POST", f"/projects/{slug}/imports/", files={"file": handle})
    load.upload_seconds = time.perf_counter() - started
    if response is not None and response.status_code == 302:
        job_url = response.headers["Location"]
        finished = ("succeeded", "failed", "error")
        # An upload is read first and waits for the curator to confirm what the preview shows.
        state = _poll(session, load, job_url, ("waiting for confirmation", *finished), timeout)
        if state == "waiting for confirmation":
            session.timed(load, "confirm", "POST", job_url, data={"format": "alpaca", "accept_unknown_fields": "on"})
            state = _poll(session, load, job_url, finished, timeout)
        load.import_seconds = time.perf_counter() - started
        if state != "succeeded":
            load.failures.append(f"import ended {state}")
    started = time.perf_counter()
    data = {"format": "alpaca", "license": "CC BY-NC 4.0", "title": "Load release", "statuses": ["in_review"]}
    response = session.timed(load, "release", "POST", f"/projects/{slug}/releases/", data=data)
    if response is not None and response.status_code == 302:
        state = _poll(session, load, response.headers["Location"], ("download", "failed"), timeout)
        load.release_seconds = time.perf_counter() - started
        if state != "download":
            load.failures.append(f"release ended {state}")
    elif response is not None:
        load.failures.append(f"release refused with {response.status_code}")


@contextmanager
def embedded_project(*, workdir: Path, tasks: int, clinicians: int, items: int, env: dict[str, str] | None = None):
    """A project of `tasks` imported seed tasks and `clinicians` with `items` assignments each, served as
    `make run` serves it (web server and worker, SQLite, folder queue); yields (base URL, the setup's JSON)."""
    env = env or embedded_environment(workdir)
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    write_records(workdir / "project.jsonl", tasks, tag="project")
    args = [str(workdir / "project.jsonl"), str(clinicians), str(items)]
    out = subprocess.run([python, "-c", SETUP, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"setting up the project failed:\n{out.stderr[-3000:]}")
    setup = json.loads(out.stdout.strip().splitlines()[-1])
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(workdir / "server.log", "w")  # noqa: SIM115 - closed after the server stops
    server = subprocess.Popen(
        [python, "-m", "config.embedded", f"127.0.0.1:{port}", "--noreload"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    try:
        _wait_for(base, server)
        yield base, setup
    finally:
        server.terminate()
        server.wait(timeout=180)
        log.close()


def run_load(
    *,
    workdir: Path,
    tasks: int,
    import_records: int,
    clinicians: int,
    items: int,
    autosave_every: float = 2.0,
    min_seconds: float = 20.0,
) -> Load:
    """Set up a project of `tasks` seed tasks, serve it as `make run` does, and put it under load."""
    env = embedded_environment(workdir)
    load = Load()
    python = sys.executable
    write_records(workdir / "upload.jsonl", import_records, tag="upload")
    with embedded_project(workdir=workdir, tasks=tasks, clinicians=clinicians, items=items, env=env) as (base, setup):
        load.setup = setup
        stop = threading.Event()
        slug = load.setup["project"]
        people = [
            threading.Thread(target=_clinician, args=(load, base, slug, person, stop, autosave_every))
            for person in load.setup["clinicians"]
        ]
        admin = threading.Thread(
            target=_admin, args=(load, base, slug, load.setup["admin"], workdir / "upload.jsonl", 600)
        )
        started = time.monotonic()
        for thread in [*people, admin]:
            thread.start()
        admin.join()
        time.sleep(max(0.0, min_seconds - (time.monotonic() - started)))
        stop.set()
        for thread in people:
            thread.join()
    expected = json.dumps({"submitted": load.submitted, "drafted": load.drafted})
    out = subprocess.run(
        [python, "-c", CHECK], cwd=ROOT, env=env, input=expected, check=True, capture_output=True, text=True
    )
    load.checked = json.loads(out.stdout.strip().splitlines()[-1])
    return load


def _wait_for(base: str, server: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"`python -m config.embedded` exited with {server.returncode}")
        try:
            requests.get(f"{base}/", timeout=5, allow_redirects=False)
            time.sleep(2)  # the worker starts beside it
            return
        except requests.RequestException:
            time.sleep(0.5)
    raise RuntimeError(f"the server did not answer at {base} within {timeout:.0f} s")
