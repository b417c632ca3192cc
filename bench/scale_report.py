"""The scale benchmark's figures as a BENCHMARKS.md section: each next to its target, its floor and the load."""

import os

from bench import scale_load, scale_pages
from bench.bench_review import CLIENT_ROUNDS, CLIENTS, K

CORES = os.cpu_count()


def _verdict(ok: bool) -> str:
    return "meets" if ok else "**misses**"


def _setup(size, build) -> list[str]:
    how = (
        f"kept from an earlier run (built in {build['built_seconds'] / 60:.0f} min, generator v{build['version']})"
        if build.get("reused")
        else f"built in this run in {build['built_seconds'] / 60:.1f} min"
    )
    return [
        f"## Every screen at {size.tasks:,} seed tasks",
        "",
        f"Setup: PostgreSQL database `{size.database}`, {how} with COPY (bench/scale_data.py): one project with "
        f"{size.tasks:,} imported seed tasks (AlpaCare texts, each with its history row), {size.prompts:,} test "
        f"prompts with {size.responses:,} model responses, {size.reviews:,} reviews by 300 reviewers (two current "
        f"per reviewed task, four per response, {size.superseded_tasks * 2 + size.responses:,} superseded by a "
        "later version), one assignment per reviewer and item (done, or pending on the next 5% of tasks), flags "
        "on every 50th reviewed task (half cleared), gold labels on every 30th, a release built by the release "
        "service and a closed pairwise round judged through the round service; then ANALYZE. Answers are "
        "cleaned against the project's own forms; content hashes as the importer computes them.",
        "",
    ]


def _pages(size, pages, small_counts) -> list[str]:
    results = pages["results"]
    floor = results[0]
    lines = [
        f"### Server time per page ({scale_pages.REQUESTS} requests each, one client)",
        "",
        "Django's test Client in the benchmark process against the database (no web server, no network), "
        f"as the role named; up to {scale_pages.REQUESTS} requests per endpoint within "
        f"{scale_pages.BUDGET_SECONDS:.0f} s (n says how many were made). Target: p95 < "
        f"{scale_pages.TARGET_P95_MS:.0f} ms. The floor is a view that runs SELECT 1 through the same middleware.",
        "",
        f"| endpoint | role | n | p50 | p95 | p99 | target | queries at {size.label.upper()} | queries at 10K | load |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for r in results:
        small = "" if small_counts is None else small_counts.get(r.endpoint.name, "")
        target = "floor" if r is floor else _verdict(r.p95 < scale_pages.TARGET_P95_MS)
        if not r.ok:
            target += f" (status {sorted(r.statuses)})"
        if r.stopped:
            limit = f"> {scale_pages.REQUEST_LIMIT_SECONDS * 1000:.0f}"
            lines.append(
                f"| {r.endpoint.name} | {r.endpoint.role} | 0 | {limit} | {limit} | {limit} | **misses** (one request "
                f"stopped after {scale_pages.REQUEST_LIMIT_SECONDS:.0f} s) | {r.queries}+ | {small} | {r.load:.1f} |"
            )
            continue
        lines.append(
            f"| {r.endpoint.name} | {r.endpoint.role} | {len(r.times)} | {scale_pages.pct(r.times, 50):.1f} "
            f"| {r.p95:.1f} | {scale_pages.pct(r.times, 99):.1f} | {target} | {r.queries} | {small} | {r.load:.1f} |"
        )
    missing = [r.endpoint.name for r in results[1:] if r.p95 >= scale_pages.TARGET_P95_MS]
    differing = [
        r.endpoint.name
        for r in results[1:]
        if small_counts is not None and small_counts.get(r.endpoint.name) not in (None, r.queries)
    ]
    if small_counts is None:
        equal = "not compared (this was the 10k run)"
    elif differing:
        equal = "no: " + ", ".join(differing) + " differ"
    else:
        equal = "yes, for every endpoint"
    submit_next = pages["submit_next"]
    p50 = scale_pages.pct(submit_next, 50)
    lines += [
        "",
        f"- {len(results) - 1 - len(missing)} of {len(results) - 1} endpoints meet p95 < 100 ms; "
        f"missing: {', '.join(missing) or 'none'}.",
        f"- Query counts equal at 10k and 1M: {equal}.",
        f"- Submit + next, server time over {len(submit_next)} rounds: p50 **{p50:.1f} ms** (target < 20 ms: "
        f"{_verdict(p50 < 20)}), p95 {scale_pages.pct(submit_next, 95):.1f} ms.",
    ]
    computed = pages.get("computed") or []
    if computed:
        shown = [
            f"{c['name']} in {c['seconds']:,.1f} s" if c["seconds"] is not None else f"{c['name']} {c['note']}"
            for c in computed
        ]
        lines.append(
            "- Computed by the worker's jobs, once, before the pages were measured (pages and API read the last "
            "result and never compute it; a job queued by a page is left queued here): " + "; ".join(shown) + "."
        )
    lines.append("")
    return lines


def _plans(pages) -> list[str]:
    lines = ["### The slowest endpoints and their slowest query", ""]
    for r, plan in pages["plans"]:
        sql = r.slowest_sql if len(r.slowest_sql) < 1500 else r.slowest_sql[:1500] + " …"
        took = f"stopped after {scale_pages.REQUEST_LIMIT_SECONDS:.0f} s" if r.stopped else f"p95 {r.p95:.1f} ms"
        lines += [
            f"**{r.endpoint.name}** ({took}, {r.queries} queries; this query took "
            f"{r.slowest_sql_ms:.0f} ms of one request):",
            "",
            "```sql",
            sql,
            "```",
            "",
            "```",
            plan,
            "```",
            "",
        ]
    return lines


def _load(load) -> list[str]:
    floor, nxt, tasks = load["floor"], load["next"], load["tasks"]
    t = load["timings"]
    every = t["next"] + t["page"] + t["submit"]
    p99 = scale_pages.pct(every, 99)
    errors = load["errors"]
    memory = load["memory_after"]
    return [
        f"### Under load (gunicorn {scale_load.WORKERS} gthread workers x {scale_load.THREADS} threads on "
        "127.0.0.1, wrk)",
        "",
        f"Workers for 2 cores: one process per core, {scale_load.THREADS} threads each (requests wait on "
        "PostgreSQL most of their time), persistent database connections; wrk, PostgreSQL and the server share "
        f"the same {CORES} cores. wrk: {scale_load.CONNECTIONS} connections for 20 s, each signed in as a "
        "different reviewer (the task list: the curator). Latency is wall time as wrk sees it.",
        "",
        "| request | req/s | p50 ms | p95 ms | p99 ms | errors | target | load |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
        _wrk_row("floor: SELECT 1 view", floor, "floor"),
        _wrk_row(
            "next item (POST), 10 clients",
            nxt,
            f">= 250 req/s and p95 < 100 ms: {_verdict(nxt['rate'] >= 250 and nxt['p95'] < 100)}",
        ),
        _wrk_row("task list, first page", tasks, f">= 150 req/s: {_verdict(tasks['rate'] >= 150)}"),
        "",
        f"**{CLIENTS} concurrent reviewers** (asyncio httpx, each drawing its work from the open pool, starting "
        f"with nothing: their first claims come right after the curator's assignments; a submit leads on to the "
        f"next item, so the claim happens inside the submit; up to {CLIENT_ROUNDS} rounds of next, page, submit, "
        f"with no pause between requests): "
        f"{len(every):,} requests, p50 {scale_pages.pct(every, 50):.0f} ms, p95 {scale_pages.pct(every, 95):.0f} ms, "
        f"p99 **{p99:.0f} ms** (target < 250 ms: {_verdict(p99 < 250)}); errors: {len(errors)}"
        f"{' (' + ', '.join(sorted(set(errors))) + ')' if errors else ''}; items with more than k = {K} reviewers "
        f"afterwards: {load['over_k']} (must be 0). Load average {load['reviewers_load']:.1f}.",
        "",
        f"- Web tier memory after the load, resident (RSS): largest worker **{max(memory['workers']):.0f} MB** "
        f"(target < 120 MB: {_verdict(max(memory['workers']) < 120)}), tier (master + {len(memory['workers'])} "
        f"workers) **{memory['tier']:.0f} MB** (target < 300 MB: {_verdict(memory['tier'] < 300)}); before the "
        f"fifty reviewers: largest worker {load['memory']['worker_max']:.0f} MB.",
        f"- The same as proportional shares (PSS: a page the workers share with the master, such as the PHI scanner "
        f"the master loads before forking, counted once across them, where RSS counts it in every process): "
        f"largest worker **{memory['worker_pss_max']:.0f} MB** (target < 120 MB: "
        f"{_verdict(memory['worker_pss_max'] < 120)}), tier **{memory['tier_pss']:.0f} MB** (target < 300 MB: "
        f"{_verdict(memory['tier_pss'] < 300)}).",
    ]


def _wrk_row(name: str, r: dict, target: str) -> str:
    return (
        f"| {name} | {r['rate']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} "
        f"| {r['errors'] + r['bad_status']} | {target} | {r['load']:.1f} |"
    )


def _io(io) -> list[str]:
    imp, exp, base = io["import"], io["export"], io["export_baseline"]
    in_ratio, out_ratio = imp["seconds"] / io["copy_in"], exp["seconds"] / io["copy_out"]
    return [
        f"### Import and export of {io['rows']:,} records next to COPY",
        "",
        "| operation | seconds | x COPY | peak RSS | target | load |",
        "| --- | ---: | ---: | ---: | --- | ---: |",
        f"| floor: COPY in (seed-task columns, from a buffer) | {io['copy_in']:.2f} | 1 | | floor | "
        f"{io['copy_in_load']:.1f} |",
        f"| import_file of the {io['rows']:,}-record JSONL | {imp['seconds']:.2f} | {in_ratio:.1f} | "
        f"{imp['rss_peak_mb']:.0f} MB | within 3x COPY in and < 4 s: "
        f"{_verdict(in_ratio <= 3 and imp['seconds'] < 4)} | {io['import_load']:.1f} |",
        f"| then its PHI scan, on the worker ({imp.get('scans_queued', 0)} run) | {imp.get('scan_seconds', 0):.2f} "
        f"| | | not part of the import; bench_phi measures the scanner | {io['import_load']:.1f} |",
        f"| floor: COPY out ({io['copy_out_bytes'] / 1e6:.0f} MB to the client) | {io['copy_out']:.2f} | 1 | | "
        f"floor | {io['copy_out_load']:.1f} |",
        f"| release_build, alpaca, {exp['rows']:,} items | {exp['seconds']:.2f} | {out_ratio:.1f} | "
        f"{exp['maxrss_mb']:.0f} MB | within 3x COPY out, < 2 s, < 150 MB: "
        f"{_verdict(out_ratio <= 3 and exp['seconds'] < 2 and exp['maxrss_mb'] < 150)} | {io['export_load']:.1f} |",
        "",
        f"Both run in child processes (bench_imports, bench_exports); a child that only starts Django and runs "
        f"one query peaks at {base['maxrss_mb']:.0f} MB.",
    ]


def report(size, build, small_counts, pages, load, celery_rss, start, io) -> str:
    lines = [
        *_setup(size, build),
        *_pages(size, pages, small_counts),
        *_plans(pages),
        *(["### Under load", "", load] if isinstance(load, str) else _load(load)),
        f"- Celery worker: {celery_rss}."
        if isinstance(celery_rss, str)
        else f"- Celery worker (solo pool), ready and idle: **{celery_rss:.0f} MB** (target < 200 MB: "
        f"{_verdict(celery_rss < 200)}).",
        f"- `manage.py check`: {start}."
        if isinstance(start, str)
        else f"- `manage.py check` (Python, Django, every app and the URLconf), median of 5: **{start:.2f} s** "
        f"(target < 1 s: {_verdict(start < 1)}).",
        "",
        *(["### Import and export next to COPY", "", io] if isinstance(io, str) else _io(io)),
        "",
        f"Load averages are 1-minute figures on {CORES} cores shared with other work; under a load above the "
        "number of cores every time here is an upper bound, which is why each sits beside a floor measured "
        "in the same run.",
    ]
    return "\n".join(lines)
