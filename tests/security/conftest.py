import importlib
import sys

import pytest

# Enough environment for config.settings.production to load; the database, cache and broker stay the test ones.
PRODUCTION_ENV = {
    "SECRET_KEY": "production-settings-under-test-" + "x" * 40,
    "DATABASE_URL": "sqlite:///unused.sqlite3",
    "CONCORD_ALLOW_SQLITE": "true",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "ALLOWED_HOSTS": "testserver",
}
# What a deployment's settings decide about security; the rest (database, cache, storage, broker) stays the test's.
NOT_APPLIED = {
    "DATABASES",
    "DATABASE_URL",
    "CACHES",
    "CACHE_URL",
    "STORAGES",
    "SECRET_KEY",
    "LOGGING",
    "DEBUG",
    "STATIC_ROOT",
}


def load_production_settings(monkeypatch, **env: str) -> dict:
    """The names config.settings.production defines under PRODUCTION_ENV plus `env`, read afresh from the files."""
    for name, value in {**PRODUCTION_ENV, **env}.items():
        monkeypatch.setenv(name, value)
    for module in ("config.settings.base", "config.settings.production"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    production = importlib.import_module("config.settings.production")
    return {name: getattr(production, name) for name in dir(production) if name.isupper()}


@pytest.fixture
def production_settings(settings, monkeypatch):
    """Apply production's security settings (SSL redirect, HSTS, MFA for admins, sessions, login limits) to the
    test's settings. Returns a function that re-applies them with extra environment variables."""

    def apply(**env: str):
        values = load_production_settings(monkeypatch, **env)
        for name, value in values.items():
            if name not in NOT_APPLIED and not name.startswith(("CELERY_", "WHITENOISE_")):
                setattr(settings, name, value)
        return settings

    apply()
    return apply
