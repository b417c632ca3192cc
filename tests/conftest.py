import pytest

from tests.factories import (
    AdminFactory,
    ClinicianFactory,
    CuratorFactory,
    MembershipFactory,
    ProjectFactory,
    SeedTaskFactory,
)


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
