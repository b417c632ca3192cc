"""Processes start lean: heavy libraries load where they are used, not with the URLs, a `manage.py`
command or the worker's start. Each check runs in a fresh Python process and reads its sys.modules."""

import json
import subprocess
import sys

from django.conf import settings

# Numerical and language libraries: only a statistic or a PHI scan needs them.
HEAVY = ("numpy", "scipy", "sklearn", "statsmodels", "pandas", "presidio_analyzer", "spacy")


def modules_loaded_by(code: str, names: tuple[str, ...]) -> list[str]:
    """Which of the modules `names` (and their submodules) a fresh process running `code` has loaded."""
    probe = (
        "import json, sys\n"
        f"{code}\n"
        f"names = {names!r}\n"
        "print(json.dumps(sorted(n for n in names if any(m == n or m.startswith(n + '.') for m in sys.modules))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_urls_manage_py_check_and_the_workers_jobs_load_no_numerical_or_language_library():
    code = (
        "from django.core.management import execute_from_command_line\n"
        "execute_from_command_line(['manage.py', 'check'])\n"
        "import importlib\n"
        "from django.conf import settings\n"
        "importlib.import_module(settings.ROOT_URLCONF)\n"
        "import curation.jobs  # what the worker imports when it starts\n"
    )
    assert modules_loaded_by(code, HEAVY) == []


def test_manage_py_check_and_the_urls_load_no_schema_machinery_job_queue_or_markdown_renderer():
    code = (
        "from django.core.management import execute_from_command_line\n"
        "execute_from_command_line(['manage.py', 'check'])\n"
        "import importlib\n"
        "from django.conf import settings\n"
        "importlib.import_module(settings.ROOT_URLCONF)\n"
    )
    # drf-spectacular's schema machinery (with DRF's and Django's test clients and Jinja2) loads when a schema
    # is generated, Celery where a job is queued or a worker asked, markdown-it at the first text rendered.
    lazy = ("drf_spectacular.openapi", "drf_spectacular.plumbing", "django.test", "jinja2", "celery", "kombu")
    assert modules_loaded_by(code, (*lazy, "markdown_it")) == []


def test_a_job_queued_without_the_config_package_loading_celery_goes_to_the_configured_app():
    code = (
        "import django\n"
        "django.setup()\n"
        "assert 'celery' not in sys.modules\n"
        "from django.conf import settings\n"
        "from curation.jobs import release_build_task\n"
        "import threading\n"
        "seen = []\n"
        "def send():  # a web server's other threads send jobs too\n"
        "    seen.append((release_build_task.app.main, release_build_task.app.conf.broker_url))\n"
        "send()\n"
        "other = threading.Thread(target=send)\n"
        "other.start()\n"
        "other.join()\n"
        "assert seen == [('concord', settings.CELERY_BROKER_URL)] * 2, seen\n"
    )
    assert modules_loaded_by(code, ("celery",)) == ["celery"]


def test_the_schema_carries_the_views_annotations_and_generates_the_same_twice():
    from drf_spectacular.generators import SchemaGenerator

    first = SchemaGenerator().get_schema(request=None, public=True)
    again = SchemaGenerator().get_schema(request=None, public=True)

    agreement = first["paths"]["/api/v1/projects/{slug}/agreement/"]
    assert agreement["get"]["summary"] == "The project's agreement report (curators and admins)"
    assert agreement["get"]["operationId"] == "v1_projects_agreement_retrieve"  # names clients were generated with
    assert again == first


def test_a_command_that_needs_no_api_starts_without_the_api_schema_machinery():
    code = (
        "from django.core.management import execute_from_command_line\n"
        "execute_from_command_line(['manage.py', 'help'])\n"
    )
    # Only the app packages themselves, which INSTALLED_APPS imports; not the schema machinery, DRF's
    # fields or Django's test client that drf-spectacular's extensions pull in.
    assert modules_loaded_by(code, ("drf_spectacular.plumbing", "rest_framework.fields", "django.test")) == []


def test_the_schema_still_describes_the_api_token_registered_when_it_is_generated():
    from drf_spectacular.generators import SchemaGenerator

    schemes = SchemaGenerator().get_schema(request=None, public=True)["components"]["securitySchemes"]

    assert schemes["tokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": 'A personal API token (people/me/tokens/), sent as "Token <key>".',
    }


def test_a_statistic_still_computes_once_numpy_is_first_used():
    # In a fresh process: the first computation imports numpy through curation.stats.lazy.
    code = (
        "from curation.stats.agreement import agreement_report, ratings_from_rows\n"
        "assert 'numpy' not in sys.modules\n"
        "rows = [(u, r, v) for u in range(6) for r, v in (('a', u % 2), ('b', u % 2))]\n"
        "report = agreement_report(ratings_from_rows(rows).matrix, level='nominal', draws=50)\n"
        "assert report['alpha']['value'] == 1.0, report['alpha']\n"
    )
    assert modules_loaded_by(code, ("numpy",)) == ["numpy"]


def test_make_runs_web_server_loads_the_phi_scanner_in_the_background_at_start():
    """`make run` sets CONCORD_PHI_WARM for its web server, so the first save that scans a text does not wait
    seconds for Presidio to import; every other process keeps starting without it (the test above)."""
    from config.embedded import PHI_WARM_ENV

    code = (
        "import os, time\n"
        f"os.environ[{PHI_WARM_ENV!r}] = '1'\n"
        "import django\n"
        "django.setup()\n"
        "from curation.phi import scanner\n"
        "deadline = time.monotonic() + 90\n"
        "while scanner._engine is None and time.monotonic() < deadline:\n"
        "    time.sleep(0.1)\n"
    )
    assert modules_loaded_by(code, ("presidio_analyzer",)) == ["presidio_analyzer"]


def test_runservers_file_watching_parent_does_not_load_the_phi_scanner(monkeypatch):
    from curation.apps import _serves_requests

    monkeypatch.setattr(sys, "argv", ["manage.py", "runserver", "127.0.0.1:8000"])
    monkeypatch.delenv("RUN_MAIN", raising=False)
    assert not _serves_requests()  # the parent only watches files; its child serves
    monkeypatch.setenv("RUN_MAIN", "true")
    assert _serves_requests()
    monkeypatch.setattr(sys, "argv", ["manage.py", "runserver", "--noreload"])
    monkeypatch.delenv("RUN_MAIN")
    assert _serves_requests()
