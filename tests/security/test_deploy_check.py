import os
import subprocess
import sys
from pathlib import Path

from tests.security.conftest import PRODUCTION_ENV

ROOT = Path(__file__).resolve().parents[2]


def test_deploy_check_under_production_settings_reports_nothing(tmp_path):
    env = {
        **os.environ,
        **PRODUCTION_ENV,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "Zq8v1X0pW3nR7tY5uI2oP9aS4dF6gH8jK1lM3nB5vC7xZ9qW2eR4tY6uI8oP0aS",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "ALLOWED_HOSTS": "concord.example.org",
        "PYTHONPATH": str(ROOT),
    }
    # The browser tests let the ORM run beside Playwright's event loop in the test process; a deployment never does.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output, output
