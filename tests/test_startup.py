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
