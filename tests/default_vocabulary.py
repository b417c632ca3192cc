"""The default vocabulary, for tests that need it even after a transactional test has flushed the tables
(a flush removes what the data migration loaded)."""

import importlib

from django.apps import apps


def ensure_default_vocabulary() -> None:
    migration = importlib.import_module("curation.migrations.0002_default_vocabulary")
    migration.load_default_vocabulary(apps, None)
