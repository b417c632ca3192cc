import pytest

from curation.models import TaskStatus
from curation.services.phi import phi_item_scan
from tests.factories import SeedTaskFactory

# Two identifiers the scanner finds in one instruction: a NAME at 8-18 and a DATE at 24-34.
WITH_PHI = "Patient John Smith, DOB 03/14/1931, presented with chest pain. What is the differential?"
CLEAN = "Explain the first-line treatment of stable angina."


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def scanned_task(project):
    """An accepted task with a name and a date of birth in its instruction, scanned."""
    task = SeedTaskFactory(project=project, instruction=WITH_PHI, status=TaskStatus.ACCEPTED)
    phi_item_scan(owner=task)
    return task


@pytest.fixture
def clean_task(project):
    task = SeedTaskFactory(project=project, instruction=CLEAN, status=TaskStatus.ACCEPTED)
    phi_item_scan(owner=task)
    return task
