"""The web tier's gunicorn settings (config/gunicorn.py), which docker-compose, the Dockerfile and the
scale benchmark start gunicorn with."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", **env}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True)


def test_the_settings_load_the_application_once_in_the_master_with_one_process_per_core_by_default():
    shown = _python(
        "import runpy; s = runpy.run_path('config/gunicorn.py');"
        "print(s['preload_app'], s['worker_class'], s['workers'], s['threads'], s['bind'])",
        WEB_CONCURRENCY="",
    )
    # An empty WEB_CONCURRENCY is not a number: say so rather than start with a guess.
    assert shown.returncode != 0 and "WEB_CONCURRENCY must be a whole number of at least 1, not ''" in shown.stderr

    shown = _python(
        "import os, runpy; os.environ.pop('WEB_CONCURRENCY', None); s = runpy.run_path('config/gunicorn.py');"
        "print(s['preload_app'], s['worker_class'], s['workers'] == (os.cpu_count() or 2), s['threads'], s['bind'])"
    )
    assert shown.stdout.split() == ["True", "gthread", "True", "8", "0.0.0.0:8000"], shown.stderr

    shown = _python(
        "import runpy; s = runpy.run_path('config/gunicorn.py'); print(s['workers'], s['threads'], s['bind'])",
        WEB_CONCURRENCY="3",
        GUNICORN_THREADS="4",
        GUNICORN_BIND="127.0.0.1:9000",
    )
    assert shown.stdout.split() == ["3", "4", "127.0.0.1:9000"], shown.stderr


def test_the_master_loads_the_phi_scanner_before_forking_and_leaves_no_database_connection_open():
    shown = _python(
        "import sys, runpy, django; django.setup();"
        "from django.db import connection; connection.ensure_connection();"
        "s = runpy.run_path('config/gunicorn.py');"
        "print('before', 'presidio_analyzer' in sys.modules);"
        "s['when_ready'](None);"
        "from curation.phi import scanner;"
        "print('after', 'presidio_analyzer' in sys.modules, scanner._engine is not None, connection.connection is None)"
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == ["before", "False", "after", "True", "True", "True"], shown.stdout


def test_the_master_freezes_what_it_loaded_so_that_the_workers_keep_sharing_its_pages():
    shown = _python(
        "import gc, runpy, django; django.setup();"
        "s = runpy.run_path('config/gunicorn.py');"
        "print(gc.get_freeze_count() == 0); s['when_ready'](None); print(gc.get_freeze_count() > 100000)"
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == ["True", "True"]
