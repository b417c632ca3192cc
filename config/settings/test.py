"""The test suite: fast hashing, in-memory email, whatever DATABASE_URL points at (SQLite by default)."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import DATABASES, env

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: Django lends an in-memory test database's one connection to every thread of
    # the live server, so two requests at once (an autosave and a submit) interleave their transactions
    # on it and fail. With a file each thread has its own connection, as under `make run`. One file per
    # test process, so that two runs in one checkout never share it.
    DATABASES["default"]["TEST"] = {
        **DATABASES["default"].get("TEST", {}),
        "NAME": str(Path(tempfile.gettempdir()) / f"concord-test-{os.getpid()}.sqlite3"),
    }

DEBUG = False
SECRET_KEY = "concord-test-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ALLOWED_HOSTS = ["*"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Each test starts with fresh rate-limit counters and a fresh cache.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tests decide per test whether a task runs eagerly; the broker URL still reaches the worker tests.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
