"""The embedded default's job queue is a folder (no broker): a command that queues a job says nothing
about a missing broker host, and the job waits in the folder for the worker `make run` starts."""

import subprocess
import sys

from django.conf import settings

QUEUE_ONE_JOB = """
import django
django.setup()
from django.conf import settings
from curation.jobs import phi_scan_task
phi_scan_task.delay(0)
print(settings.CELERY_BROKER_URL)
"""


def test_queueing_a_job_without_a_broker_writes_it_to_the_folder_without_a_warning(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "CONCORD_JOBS_DIR": str(tmp_path / "jobs"),
        "CONCORD_CACHE_DIR": str(tmp_path / "cache"),
    }
    result = subprocess.run(
        [sys.executable, "-c", QUEUE_ONE_JOB],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("filesystem://")
    assert "No hostname was supplied" not in result.stderr
    assert len(list((tmp_path / "jobs" / "queue").glob("*.msg"))) == 1
