"""The embedded default (SQLite, no DATABASE_URL) lets web requests and the worker write to one file at once."""

import importlib.util
import threading
import time

import pytest
from django.db.backends.sqlite3.base import DatabaseWrapper
from django.db.utils import DEFAULT_DB_ALIAS

from config.settings import base


@pytest.fixture(autouse=True)
def _own_database_files(django_db_blocker):
    """These tests open their own database files, not the test database."""
    with django_db_blocker.unblock():
        yield


def embedded_default_settings(monkeypatch, name) -> dict:
    """DATABASES["default"] as config/settings/base.py builds it when DATABASE_URL is not set."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    spec = importlib.util.spec_from_file_location("embedded_settings", base.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    settings_dict = {**module.DATABASES["default"], "NAME": str(name), "CONN_MAX_AGE": 0}
    settings_dict.setdefault("TEST", {})
    settings_dict.setdefault("TIME_ZONE", None)
    settings_dict.setdefault("AUTOCOMMIT", True)
    settings_dict.setdefault("ATOMIC_REQUESTS", False)
    return settings_dict


def test_the_embedded_database_keeps_its_journal_beside_the_file_so_readers_do_not_wait(monkeypatch, tmp_path):
    wrapper = DatabaseWrapper(embedded_default_settings(monkeypatch, tmp_path / "concord.sqlite3"), DEFAULT_DB_ALIAS)
    with wrapper.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 2000
    wrapper.close()


def test_two_writers_that_read_first_both_commit_instead_of_one_finding_the_database_locked(monkeypatch, tmp_path):
    settings_dict = embedded_default_settings(monkeypatch, tmp_path / "concord.sqlite3")
    setup = DatabaseWrapper(settings_dict, DEFAULT_DB_ALIAS)
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE draft (n integer)")
    setup.close()
    first_has_read, errors = threading.Event(), []

    def autosave(n: int, *, first: bool) -> None:
        # The first writer reads, lets the second begin, then writes: a transaction that took no lock
        # when it began cannot become a writer once another has written ("database is locked").
        wrapper = DatabaseWrapper(settings_dict, DEFAULT_DB_ALIAS)
        try:
            if not first:
                first_has_read.wait(timeout=5)
            with wrapper.cursor() as cursor:
                wrapper._start_transaction_under_autocommit()
                cursor.execute("SELECT count(*) FROM draft")
                if first:
                    first_has_read.set()
                    time.sleep(0.3)
                cursor.execute("INSERT INTO draft (n) VALUES (%s)", [n])
                cursor.execute("COMMIT")
        except Exception as exc:
            errors.append(exc)
        finally:
            wrapper.close()

    threads = [threading.Thread(target=autosave, args=(n,), kwargs={"first": n == 1}) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    check = DatabaseWrapper(settings_dict, DEFAULT_DB_ALIAS)
    with check.cursor() as cursor:
        cursor.execute("SELECT n FROM draft ORDER BY n")
        saved = [row[0] for row in cursor.fetchall()]
    check.close()
    assert errors == []
    assert saved == [1, 2]
