"""Every screen at a million tasks: server time per page, throughput under load, memory, import and export.

    make bench BENCH=scale                  # the 1M database (built once, kept), query counts at 10k too
    BENCH_SCALE=10k make bench BENCH=scale  # the 10k database only, for a quick check

The scale databases (bench.scale_data) live beside the runner's throwaway database and are kept
between runs; import and export run in the throwaway one. Every figure is printed with the machine's
load average while it was measured and a floor from the same run: a request that only runs SELECT 1
for the pages and the load, PostgreSQL's own COPY for import and export.
"""

import os
import pickle
import time
import traceback
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.test import override_settings
from django.urls import reverse

from bench import scale_data, scale_io, scale_load, scale_pages
from bench.bench_review import CLIENTS, K

PLANS = 4  # slowest endpoints whose slowest query is explained
SUBMIT_ROUNDS = 100


def _size() -> scale_data.Size:
    label = os.environ.get("BENCH_SCALE", "1m").lower()
    if label not in scale_data.SIZES:
        raise SystemExit(f"BENCH_SCALE={label!r} is not a size; use one of {', '.join(scale_data.SIZES)}")
    return scale_data.SIZES[label]


def _floor_endpoint() -> scale_pages.Endpoint:
    return scale_pages.Endpoint("floor: SELECT 1 view", "clinician", "get", "/bench/select-1")


def _submit_and_next(fixture: scale_pages.Fixture) -> list[float]:
    """Server time of a submit plus the next item it leads to, as a reviewer works through assigned items."""
    client, slug, times = fixture.clients["clinician"], fixture.project.slug, []
    for _ in range(SUBMIT_ROUNDS):
        location, form = scale_pages._next_form_submit(fixture)
        started = time.perf_counter()
        client.post(location, form)
        client.post(reverse("review_next", args=[slug]))
        times.append((time.perf_counter() - started) * 1000)
    return times


def _pages(size: scale_data.Size) -> dict:
    with override_settings(ROOT_URLCONF="bench.scale_urls"):
        fixture = scale_pages.Fixture.load(tasks=size.tasks)
        computed = scale_pages.computations(fixture)
        results = []
        with scale_pages.jobs_left_to_the_worker():
            for endpoint in [_floor_endpoint(), *scale_pages.endpoints(fixture)]:
                load = os.getloadavg()[0]
                result = scale_pages.measure(fixture, endpoint)
                result.load = max(load, os.getloadavg()[0])
                print(f"  {endpoint.name}: p95 {result.p95:.1f} ms, {result.queries} queries", flush=True)
                results.append(result)
            submit_next = _submit_and_next(fixture)
        slowest = sorted(results[1:], key=lambda r: r.p95, reverse=True)[:PLANS]
        plans = [
            (r, scale_pages.explain(r.slowest_sql, analyze=not r.stopped and r.slowest_sql_ms < 2000))
            for r in slowest
            if r.slowest_sql
        ]
    return {"results": results, "submit_next": submit_next, "plans": plans, "fixture": fixture, "computed": computed}


def _load(size: scale_data.Size, fixture: scale_pages.Fixture) -> dict:
    from accounts.models import User

    clinicians = list(User.objects.filter(email__startswith="reviewer").order_by("id")[: scale_load.CONNECTIONS])
    reviewer_cookies = [scale_load.session_cookie(u) for u in clinicians]
    curator_cookie = [scale_load.session_cookie(User.objects.get(email="curator@scale.test"))]
    pool_cookies = [scale_load.session_cookie(u) for u in scale_load.pool_reviewers(fixture.project, CLIENTS)]
    slug = fixture.project.slug
    connection.close()  # the server's processes open their own
    out: dict = {}
    with scale_load.Server(scale_data.database_url(size.database)) as server:
        for name, path, cookies, method in (
            ("warm-up", "/bench/select-1", reviewer_cookies, "GET"),
            ("floor", "/bench/select-1", reviewer_cookies, "GET"),
            ("next", reverse("review_next", args=[slug]), reviewer_cookies, "POST"),
            ("tasks", reverse("task_list", args=[slug]), curator_cookie, "GET"),
        ):
            out[name] = scale_load.wrk(server, path, cookies, method=method, seconds=5 if name == "warm-up" else 20)
            print(f"  wrk {name}: {out[name]['rate']:.0f} req/s, p95 {out[name]['p95']:.1f} ms", flush=True)
        out["memory"] = server.memory()
        concurrent = scale_load.reviewers_concurrent(server, pool_cookies, slug)
        out["timings"], out["errors"], out["reviewers_load"] = concurrent
        out["memory_after"] = server.memory()
    out["over_k"] = _over_assigned(fixture.project, size)
    return out


def _over_assigned(project, size: scale_data.Size) -> int:
    from curation.models import Assignment

    return (
        Assignment.objects.filter(project=project, status__in=["pending", "done"], seed_task_id__gt=size.reviewed)
        .values("seed_task")
        .annotate(n=Count("id"))
        .filter(n__gt=K)
        .count()
    )


def _attempt(measure, *args):
    """The figures of one part, or why it could not be measured: a failure late in a long run keeps the rest."""
    try:
        return measure(*args)
    except Exception as exc:
        traceback.print_exc()
        return f"not measured: {type(exc).__name__}: {str(exc)[:300]}"


def run() -> str:
    size = _size()
    build = scale_data.ensure(size)
    small_counts = None
    if size.label != "10k":
        scale_data.ensure(scale_data.SIZES["10k"])
        with scale_data.using_database(scale_data.SIZES["10k"].database):
            small = scale_pages.Fixture.load(tasks=10_000)
            scale_pages.computations(small)  # the pages read the same kind of result at both sizes
            with scale_pages.jobs_left_to_the_worker():
                small_counts = scale_pages.query_counts(small)
    with scale_data.using_database(size.database):
        pages = _pages(size)
        database_url = scale_data.database_url(size.database)
        load = _attempt(_load, size, pages["fixture"])
        celery_rss = _attempt(scale_load.celery_idle_rss, database_url)
        start = _attempt(scale_load.manage_start_seconds, database_url)
    io = _attempt(scale_io.measure)
    from bench.scale_report import report

    figures = (size, build, small_counts, {**pages, "fixture": None}, load, celery_rss, start, io)
    # Kept so that the section can be written again from the same figures (python -m bench.scale_report).
    with open(Path(settings.BASE_DIR) / "var" / f"bench-scale-{size.label}.pickle", "wb") as out:
        pickle.dump(figures, out)
    return report(*figures)
