import pytest
from django.core.cache import cache

from tests.default_vocabulary import ensure_default_vocabulary
from tests.factories import (
    AdminFactory,
    ClinicianFactory,
    CuratorFactory,
    MembershipFactory,
    ProjectFactory,
    SeedTaskFactory,
)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Cached reports are keyed by ids, which a rolled-back test may hand out again: start empty."""
    cache.clear()


@pytest.fixture(autouse=True)
def _default_vocabulary_survives_flushes(request, django_db_blocker):
    """A transactional test ends by emptying every table, including the vocabulary the data migration
    loaded; put it back so the tests after it start from the same database as a fresh install."""
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or {
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    if transactional:
        with django_db_blocker.unblock():
            ensure_default_vocabulary()


@pytest.fixture
def project(db):
    return ProjectFactory(slug="cardio", name="Cardiology seeds")


@pytest.fixture
def clinician(project):
    user = ClinicianFactory(email="clinician@example.org")
    MembershipFactory(project=project, user=user)
    return user


@pytest.fixture
def outsider(db):
    """A clinician who is not a member of `project`."""
    return ClinicianFactory(email="outsider@example.org")


@pytest.fixture
def curator(db):
    return CuratorFactory(email="curator@example.org")


@pytest.fixture
def admin_user(db):
    return AdminFactory(email="admin@example.org")


@pytest.fixture
def task(project):
    return SeedTaskFactory(project=project)
