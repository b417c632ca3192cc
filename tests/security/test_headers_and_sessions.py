import pytest
from django.urls import reverse

from accounts import middleware

MINUTE = 60


@pytest.fixture
def clock(monkeypatch):
    """The idle timer's clock, moved by hand."""
    now = {"t": 1_800_000_000.0}
    monkeypatch.setattr(middleware.time, "time", lambda: now["t"])

    def advance(minutes: float) -> None:
        now["t"] += minutes * MINUTE

    return advance


def test_every_response_switches_off_unused_browser_features(client, db):
    policy = client.get(reverse("account_login"))["Permissions-Policy"]

    assert "camera=()" in policy and "microphone=()" in policy and "geolocation=()" in policy


def test_production_sends_hsts_for_a_year_with_subdomains_and_preload(client, production_settings):
    response = client.get(reverse("account_login"), secure=True)

    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_hsts_preload_and_subdomains_can_be_turned_off(client, production_settings):
    production_settings(SECURE_HSTS_PRELOAD="false", SECURE_HSTS_INCLUDE_SUBDOMAINS="false")

    assert client.get(reverse("account_login"), secure=True)["Strict-Transport-Security"] == "max-age=31536000"


def test_an_idle_session_is_signed_out_after_fifteen_minutes(client, clinician, clock):
    client.force_login(clinician)
    assert client.get(reverse("dashboard")).status_code == 200

    clock(14)
    assert client.get(reverse("dashboard")).status_code == 200
    clock(14)
    assert client.get(reverse("dashboard")).status_code == 200
    clock(16)
    response = client.get(reverse("dashboard"), follow=True)

    assert response.redirect_chain[0][0].startswith(reverse("account_login"))
    assert "signed out after 15 minutes without activity" in response.content.decode()


def test_autosaves_and_polling_do_not_keep_an_idle_session_alive(client, clinician, clock):
    client.force_login(clinician)
    client.get(reverse("dashboard"))

    for _ in range(3):
        clock(5)
        background = client.get(reverse("dashboard"), headers={"X-Concord-Background": "1"})
    clock(1)

    assert background.status_code == 200
    assert client.get(reverse("dashboard")).status_code == 302


def test_the_idle_limit_is_configurable(client, clinician, clock, settings):
    settings.CONCORD_SESSION_IDLE_MINUTES = 5
    client.force_login(clinician)
    client.get(reverse("dashboard"))

    clock(6)

    assert client.get(reverse("dashboard")).status_code == 302


def test_stay_signed_in_counts_as_activity(client, clinician, clock):
    client.force_login(clinician)
    client.get(reverse("dashboard"))

    clock(14)
    assert client.get(reverse("session_keepalive")).status_code == 204
    clock(14)

    assert client.get(reverse("dashboard")).status_code == 200


def test_signed_in_pages_load_the_idle_warning_from_a_file_with_the_limit(client, clinician):
    client.force_login(clinician)

    page = client.get(reverse("dashboard")).content.decode()

    assert 'concord/session.js" data-idle-seconds="900"' in page
    assert f'data-keepalive-url="{reverse("session_keepalive")}"' in page
