"""Markers for tests that need the real services: they skip on a developer's SQLite checkout and run,
or fail, in CI (CI=true), which always provides PostgreSQL."""

import os

import pytest

on_postgres = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres") and not os.environ.get("CI"),
    reason="row locks need PostgreSQL (SQLite serialises whole-database writes)",
)
