"""The one place that says which tests need a real service, and what happens when it is missing.

On a developer's checkout without the service (SQLite, no broker, no Chromium, no AlpaCare data)
those tests skip, saying what they need. CI (CI=true) always provides every service, so there they
never skip: a service missing in CI makes its tests run and fail rather than pass unnoticed.
"""

import os
import shutil
from pathlib import Path

import pytest

from tests.data import ALPACARE, alpacare_present
from tests.worker import worker_available

# Debian's package; the browser tests launch it (tests/e2e/conftest.py).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _needs(available: bool, *, reason: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not available and not os.environ.get("CI"), reason=reason)


on_postgres = _needs(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs PostgreSQL in DATABASE_URL (SQLite serialises whole-database writes and takes no row locks)",
)
needs_worker = _needs(worker_available(), reason="needs DATABASE_URL on PostgreSQL and CELERY_BROKER_URL")
needs_browser = _needs(Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt-get install chromium)")
needs_alpacare = _needs(
    alpacare_present(),
    reason=f"needs the AlpaCare data in ../shared/data/alpacare (looked in {ALPACARE}; CI always has it)",
)
