import pytest


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Release files of each test go to a folder of its own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
