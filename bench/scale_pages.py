"""Server time of every page and API endpoint a clinician, curator or admin uses, on the scale database.

Django's test Client in the benchmark process against the real PostgreSQL connection: the time is the
server's (URL routing, middleware, views, templates, queries), without a network or a web server. Each
endpoint is asked up to 200 times as the role that uses it, within a time budget per endpoint so that
one slow page cannot hold up the rest (the table says how many requests were made). The queries of one
request are counted with CaptureQueriesContext; the slowest query of each slow endpoint is explained.
"""

import base64
import json
import os
import signal
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))
BUDGET_SECONDS = float(os.environ.get("BENCH_BUDGET_SECONDS", "20"))
REQUEST_LIMIT_SECONDS = float(os.environ.get("BENCH_REQUEST_LIMIT_SECONDS", "20"))
TARGET_P95_MS = 100.0
SEED_FORM = {
    "a-decision": "accept",
    "a-clinical_validity": "4",
    "a-clarity": "4",
    "a-difficulty": "3",
    "a-comment": "Clear and correct.",
}
SEED_ANSWERS = {"decision": "accept", "clinical_validity": 4, "clarity": 4, "difficulty": 3}
# Agreement is computed before the pages are measured up to this many current reviews; above it the job
# (whose per-reviewer breakdown grows with reviewers x items) is left queued and its pages show that.
AGREEMENT_MAX_REVIEWS = int(os.environ.get("BENCH_AGREEMENT_MAX_REVIEWS", "100000"))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] if ordered else float("nan")


@dataclass
class Endpoint:
    name: str
    role: str
    method: str
    url: str
    data: Any = None
    json_body: bool = False
    # For a request that uses up an item (a submit): called before each request, untimed, for its (url, data).
    prepare: Any = None


@dataclass
class Result:
    endpoint: Endpoint
    times: list[float] = field(default_factory=list)
    queries: int = 0
    statuses: set[int] = field(default_factory=set)
    slowest_sql: str = ""
    slowest_sql_ms: float = 0.0
    stopped: bool = False
    load: float = 0.0

    @property
    def p95(self) -> float:
        return float("inf") if self.stopped else pct(self.times, 95)

    @property
    def ok(self) -> bool:
        return all(s < 400 for s in self.statuses)


@dataclass
class Fixture:
    """What the endpoints need from the scale database: its people and a few of its rows."""

    project: Any
    clients: dict[str, Client]
    task_id: int
    assignment_id: int
    release_id: int
    round_id: int

    @classmethod
    def load(cls, *, tasks: int) -> "Fixture":
        from accounts.models import User
        from curation.models import Assignment, EvaluationRound, Project, Release

        from .scale_data import SLUG

        project = Project.objects.get(slug=SLUG)
        clients = {}
        for role, email in (
            ("clinician", "clinician@scale.test"),
            ("curator", "curator@scale.test"),
            ("admin", "admin@scale.test"),
        ):
            client = Client()
            client.force_login(User.objects.get(email=email))
            clients[role] = client
        pending = (
            Assignment.objects.filter(project=project, reviewer__email="clinician@scale.test", status="pending")
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
        )
        return cls(
            project=project,
            clients=clients,
            task_id=tasks // 2 + 1,
            assignment_id=pending,
            release_id=Release.objects.filter(project=project).values_list("id", flat=True).first(),
            round_id=EvaluationRound.objects.filter(project=project).values_list("id", flat=True).first(),
        )


@contextmanager
def jobs_left_to_the_worker():
    """Pages queue whole-project computations for the worker; Celery runs eagerly in this process, where
    a queued job would run inside the request. Here it is left queued, as a worker would have it."""
    from curation import jobs

    original = jobs.computation_run_task.delay
    jobs.computation_run_task.delay = lambda *args, **kwargs: None
    try:
        yield
    finally:
        jobs.computation_run_task.delay = original


def computations(fixture: Fixture) -> list[dict]:
    """What the worker computes for the pages (the disagreement queue, the round's results, agreement),
    run once before they are measured, as a worker would have: [{"name", "seconds", "note"}]."""
    from curation.models import EvaluationRound, Review
    from curation.services.agreement import project_agreement_recompute, project_agreement_refresh
    from curation.services.disagreements import disagreements_refresh
    from curation.services.round_results import round_results_refresh

    done = []

    def timed(name: str, run) -> None:
        started = time.perf_counter()
        run()
        done.append({"name": name, "seconds": time.perf_counter() - started, "note": ""})
        print(f"  computed {name}: {done[-1]['seconds']:.1f} s", flush=True)

    timed("disagreement queue", lambda: disagreements_refresh(project=fixture.project))
    timed(
        "round results",
        lambda: round_results_refresh(evaluation_round=EvaluationRound.objects.get(pk=fixture.round_id)),
    )
    reviews = Review.objects.filter(project=fixture.project, is_current=True).count()
    if reviews <= AGREEMENT_MAX_REVIEWS:
        timed("agreement", lambda: project_agreement_refresh(project_id=fixture.project.pk))
    else:
        with jobs_left_to_the_worker():
            project_agreement_recompute(project=fixture.project)
        note = (
            f"not computed: {reviews:,} current reviews, above the benchmark's limit of {AGREEMENT_MAX_REVIEWS:,} "
            "(BENCH_AGREEMENT_MAX_REVIEWS); its page and API were measured with the computation queued"
        )
        done.append({"name": "agreement", "seconds": None, "note": note})
    return done


def _next_form_submit(fixture: Fixture) -> tuple[str, dict]:
    """The clinician's next item (untimed), and the form that submits a review of it."""
    response = fixture.clients["clinician"].post(reverse("review_next", args=[fixture.project.slug]))
    return response["Location"], {**SEED_FORM, "submission_key": str(uuid.uuid4())}


def _next_api_submit(fixture: Fixture) -> tuple[str, dict]:
    slug = fixture.project.slug
    item = fixture.clients["clinician"].post(reverse("api_review_next", args=[slug])).json()
    body = {"assignment": item["assignment"], "answers": SEED_ANSWERS, "submission_key": str(uuid.uuid4())}
    return reverse("api_review_submit", args=[slug]), body


def _cursor_after(task_id: int) -> str:
    """The cursor a task list's Next link carries on the page that ends with `task_id` (curation.pagination)."""
    return base64.urlsafe_b64encode(json.dumps(["n", [task_id]]).encode()).decode().rstrip("=")


def endpoints(fixture: Fixture) -> list[Endpoint]:
    slug, task = fixture.project.slug, fixture.task_id
    tasks = reverse("task_list", args=[slug])
    api = "/api/v1/"
    return [
        Endpoint("dashboard (clinician)", "clinician", "get", reverse("dashboard")),
        Endpoint("dashboard (curator)", "curator", "get", reverse("dashboard")),
        Endpoint("dashboard (admin)", "admin", "get", reverse("dashboard")),
        Endpoint("review queue", "clinician", "get", reverse("review_queue", args=[slug])),
        Endpoint("next item (POST)", "clinician", "post", reverse("review_next", args=[slug])),
        Endpoint("review page", "clinician", "get", reverse("review_item", args=[slug, fixture.assignment_id])),
        Endpoint("submit (POST)", "clinician", "post", "", prepare=_next_form_submit),
        Endpoint("task list, first page", "curator", "get", tasks),
        Endpoint("task list, deep page (mid-list)", "curator", "get", f"{tasks}?cursor={_cursor_after(task)}"),
        Endpoint("task list, text search", "curator", "get", f"{tasks}?q=hypertension"),
        Endpoint("task detail", "curator", "get", reverse("task_detail", args=[slug, task])),
        Endpoint("agreement", "curator", "get", reverse("project_agreement", args=[slug])),
        Endpoint("adjudication queue", "curator", "get", reverse("adjudication_queue", args=[slug])),
        Endpoint("attention list", "curator", "get", reverse("attention_list", args=[slug])),
        Endpoint("assign page", "curator", "get", reverse("assign", args=[slug])),
        Endpoint("imports", "curator", "get", reverse("import_list", args=[slug])),
        Endpoint("releases", "admin", "get", reverse("release_list", args=[slug])),
        Endpoint("release detail", "admin", "get", reverse("release_detail", args=[slug, fixture.release_id])),
        Endpoint("rounds list", "curator", "get", reverse("round_list", args=[slug])),
        Endpoint("round results", "curator", "get", reverse("round_results", args=[slug, fixture.round_id])),
        Endpoint("vocabulary", "curator", "get", reverse("vocabulary", args=[slug])),
        Endpoint("API me", "clinician", "get", f"{api}me/"),
        Endpoint("API projects", "clinician", "get", f"{api}projects/"),
        Endpoint("API tasks list", "curator", "get", reverse("api_task_list", args=[slug])),
        Endpoint("API task detail", "curator", "get", reverse("api_task_detail", args=[slug, task])),
        Endpoint("API review next (POST)", "clinician", "post", reverse("api_review_next", args=[slug])),
        Endpoint("API review submit (POST)", "clinician", "post", "", json_body=True, prepare=_next_api_submit),
        Endpoint("API disagreements", "curator", "get", reverse("api_disagreement_list", args=[slug])),
        Endpoint("API agreement", "curator", "get", reverse("api_agreement", args=[slug])),
        Endpoint("API releases", "admin", "get", reverse("api_release_list", args=[slug])),
        Endpoint("API round results", "curator", "get", reverse("api_round_results", args=[slug, fixture.round_id])),
    ]


def _request(fixture: Fixture, endpoint: Endpoint):
    client = fixture.clients[endpoint.role]
    url, data = endpoint.url, endpoint.data
    if endpoint.prepare:
        url, data = endpoint.prepare(fixture)
    call = getattr(client, endpoint.method)
    if endpoint.json_body:
        return lambda: call(url, data=json.dumps(data), content_type="application/json")
    return lambda: call(url, data) if data is not None else call(url)


class _Stopped(Exception):
    pass


def _stop(signum, frame):
    raise _Stopped


def _within(send, seconds: float):
    """`send()`, stopped (by SIGALRM) after `seconds`: a page that takes minutes would hold up every other figure."""
    previous = signal.signal(signal.SIGALRM, _stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return send()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def measure(fixture: Fixture, endpoint: Endpoint, *, requests: int = REQUESTS, budget: float = BUDGET_SECONDS):
    """Times `requests` requests (fewer if the budget runs out); counts and times the queries of one more.

    A first request that takes longer than REQUEST_LIMIT_SECONDS is stopped and the endpoint reported
    as slower than that, unmeasured.
    """
    result = Result(endpoint)
    with CaptureQueriesContext(connection) as warm_up:
        try:
            _within(_request(fixture, endpoint), REQUEST_LIMIT_SECONDS)  # warm-up: templates, caches, connection
        except _Stopped:
            result.stopped = True
    if result.stopped:
        result.queries = len(warm_up.captured_queries)  # those that finished before it was stopped
        _keep_slowest(result, warm_up.captured_queries)
        connection.close()  # stopped mid-request: the next endpoint starts on a fresh connection
        return result
    with CaptureQueriesContext(connection) as captured:
        response = _request(fixture, endpoint)()
    result.statuses.add(response.status_code)
    result.queries = len(captured.captured_queries)
    _keep_slowest(result, captured.captured_queries)
    deadline = time.perf_counter() + budget
    while len(result.times) < requests and time.perf_counter() < deadline:
        send = _request(fixture, endpoint)
        started = time.perf_counter()
        response = send()
        result.times.append((time.perf_counter() - started) * 1000)
        result.statuses.add(response.status_code)
    return result


def _keep_slowest(result: Result, queries: list[dict]) -> None:
    if queries:
        slowest = max(queries, key=lambda q: float(q["time"]))
        result.slowest_sql, result.slowest_sql_ms = slowest["sql"], float(slowest["time"]) * 1000


def query_counts(fixture: Fixture) -> dict[str, int]:
    """Queries per endpoint, one request each (after a warm-up)."""
    counts = {}
    for endpoint in endpoints(fixture):
        try:
            _within(_request(fixture, endpoint), REQUEST_LIMIT_SECONDS)
        except _Stopped:
            connection.close()
            counts[endpoint.name] = None
            continue
        with CaptureQueriesContext(connection) as captured:
            _request(fixture, endpoint)()
        counts[endpoint.name] = len(captured.captured_queries)
    return counts


def explain(sql: str, *, analyze: bool = True) -> str:
    """The plan of a captured query: EXPLAIN ANALYZE for a read (in a transaction rolled back), EXPLAIN otherwise.

    `analyze=False` for a query that reads millions of rows: running it again would take minutes.
    """
    analyze = analyze and sql.lstrip().upper().startswith("SELECT")
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        try:
            cursor.execute(f"EXPLAIN {'(ANALYZE, BUFFERS) ' if analyze else ''}{sql}")
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("ROLLBACK")
