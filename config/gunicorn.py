"""gunicorn settings for the web tier: `gunicorn -c config/gunicorn.py config.wsgi:application`.

Sized for a small machine (measured on 2 cores in BENCHMARKS.md, "Every screen at 1,000,000 seed tasks"):
one process per core, each with 8 threads, since a request spends most of its time waiting on
PostgreSQL; more processes than cores only queue behind each other and the database. Override with
WEB_CONCURRENCY (processes) and GUNICORN_THREADS.

The application and the PHI scanner are loaded once, in the master, before the workers are forked:
every save of a clinician's text is scanned in the request, and Presidio with spaCy takes seconds to
import and about 70 MB. Loaded in each worker at its first scan, that import stalled every request
the worker had in flight; loaded in the master, the workers start with it and share its pages.
"""

import gc
import os


def _count(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    if not value.strip().isdigit() or int(value) < 1:
        raise SystemExit(f"{name} must be a whole number of at least 1, not {value!r}")
    return int(value)


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = _count("WEB_CONCURRENCY", os.cpu_count() or 2)
worker_class = "gthread"
threads = _count("GUNICORN_THREADS", 8)
keepalive = 60
timeout = 120
preload_app = True


def when_ready(server) -> None:
    """In the master, after the application is loaded and before any worker is forked."""
    from django.db import connections

    from curation.phi.scanner import phi_engine

    phi_engine()
    # Nothing above should have opened a database connection; a forked copy of one would be shared by every worker.
    connections.close_all()
    # What the master loaded goes where the collector never looks: a worker's collections would otherwise
    # write into every object they walk and so copy the master's shared pages into each worker, one by one
    # (measured on the scale database: 97 MB of a worker's own after 200 requests without this, 78 MB with it).
    gc.freeze()
