"""Sessions are read from the cache and written through to the database."""

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse


def test_a_signed_in_request_reads_its_session_from_the_cache_not_the_database(client, clinician):
    client.force_login(clinician)
    client.get(reverse("dashboard"))  # the first request may write the session's activity time

    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("dashboard")).status_code == 200

    assert not [q["sql"] for q in captured.captured_queries if "django_session" in q["sql"]]


def test_a_session_the_cache_lost_is_still_signed_in_from_its_database_row(client, clinician):
    client.force_login(clinician)
    client.get(reverse("dashboard"))

    cache.clear()

    page = client.get(reverse("dashboard"))
    assert page.status_code == 200
    assert page.wsgi_request.user == clinician
