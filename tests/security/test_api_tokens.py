from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken, Role, TokenScope
from accounts.services import api_token_create, api_token_revoke, user_deactivate, user_role_set
from tests.factories import AdminFactory

PASSWORD = "a-long-test-password"


def auth(key: str) -> dict:
    return {"Authorization": f"Token {key}"}


@pytest.fixture
def releases_url(project):
    return reverse("api_release_list", kwargs={"slug": project.slug})


def test_admin_without_an_authenticator_cannot_use_a_token_to_list_or_create_releases(
    client, production_settings, admin_user, releases_url
):
    _, key = api_token_create(user=admin_user, name="export", scope=TokenScope.READ_WRITE)

    listed = client.get(releases_url, headers=auth(key), secure=True)
    created = client.post(releases_url, {"format": "alpaca"}, headers=auth(key), secure=True)

    assert listed.status_code == 403 and "authenticator" in listed.json()["detail"]
    assert created.status_code == 403
    # The same admin's pages send them to enrolment: tokens and pages follow one policy.
    client.force_login(admin_user)
    assert reverse("mfa_activate_totp") in client.get(reverse("dashboard"), secure=True)["Location"]


def test_admin_with_an_authenticator_uses_a_token(client, production_settings, admin_user, releases_url):
    Authenticator.objects.create(user=admin_user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    _, key = api_token_create(user=admin_user, name="export")

    assert client.get(releases_url, headers=auth(key), secure=True).status_code == 200


def test_clinicians_tokens_work_under_production_settings(client, production_settings, clinician):
    _, key = api_token_create(user=clinician, name="script")

    response = client.get(reverse("api_me"), headers=auth(key), secure=True)

    assert response.status_code == 200 and response.json()["email"] == clinician.email


def test_read_only_token_is_refused_on_writes_with_a_clear_message(client, admin_user, releases_url):
    _, read_key = api_token_create(user=admin_user, name="reader", scope=TokenScope.READ)
    _, write_key = api_token_create(user=admin_user, name="writer", scope=TokenScope.READ_WRITE)

    refused = client.post(
        releases_url, {"format": "not-a-format"}, content_type="application/json", headers=auth(read_key)
    )
    validated = client.post(
        releases_url, {"format": "not-a-format"}, content_type="application/json", headers=auth(write_key)
    )

    assert refused.status_code == 403
    assert refused.json()["detail"] == "This token is read-only; POST needs a token with the read-and-write scope."
    assert validated.status_code == 400 and "format" in validated.json()
    assert client.get(releases_url, headers=auth(read_key)).status_code == 200


def test_expired_and_revoked_tokens_are_refused(client, clinician):
    expired, expired_key = api_token_create(user=clinician, name="old", days=1)
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    revoked, revoked_key = api_token_create(user=clinician, name="leaked")
    api_token_revoke(token=revoked)

    for key, word in ((expired_key, "expired"), (revoked_key, "revoked")):
        response = client.get(reverse("api_me"), headers=auth(key))
        assert response.status_code == 401 and word in response.json()["detail"]


def test_tokens_expire_after_ninety_days_by_default_and_no_later(clinician):
    token, _ = api_token_create(user=clinician, name="script")

    assert timedelta(days=89, hours=23) < token.expires_at - token.created_at <= timedelta(days=90)
    with pytest.raises(Exception, match="between 1 and 90 days"):
        api_token_create(user=clinician, name="forever", days=365)


def test_only_a_hash_of_the_key_is_stored_and_use_is_recorded(client, clinician):
    token, key = api_token_create(user=clinician, name="script")
    stored = ApiToken.objects.filter(pk=token.pk).values()[0]

    assert key not in {str(value) for value in stored.values()}
    assert key.startswith(token.prefix) and len(key) > 40
    assert token.last_used_at is None
    client.get(reverse("api_me"), headers=auth(key))
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_password_change_revokes_every_token(client, clinician):
    _, key = api_token_create(user=clinician, name="script")
    client.force_login(clinician)

    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "another-long-password-9", "password2": "another-long-password-9"},
    )

    assert response.status_code == 302
    client.logout()
    assert client.get(reverse("api_me"), headers=auth(key)).status_code == 401


def test_role_change_and_deactivation_revoke_tokens(clinician):
    first, _ = api_token_create(user=clinician, name="first")
    user_role_set(user=clinician, role=Role.CURATOR)
    second, _ = api_token_create(user=clinician, name="second")
    user_deactivate(user=clinician)

    first.refresh_from_db(), second.refresh_from_db()
    assert first.revoked_at is not None and second.revoked_at is not None
    assert clinician.role == Role.CURATOR and not clinician.is_active


def test_changes_made_in_the_django_admin_revoke_tokens(client, clinician):
    admin = AdminFactory()
    client.force_login(admin)
    role_token, _ = api_token_create(user=clinician, name="role")
    change = reverse("admin:accounts_user_change", args=[clinician.pk])
    form = {"email": clinician.email, "name": clinician.name, "role": Role.CURATOR, "is_active": "on"}
    form |= {"specialty": "", "credentials": "", "last_login_0": "", "last_login_1": ""}
    form |= {"date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"}

    assert client.post(change, form).status_code == 302
    password_token, _ = api_token_create(user=clinician, name="password")
    password_form = {"password1": "yet-another-password-7", "password2": "yet-another-password-7"}
    password_form["set_usable_password"] = "true"
    client.post(reverse("admin:auth_user_password_change", args=[clinician.pk]), password_form)

    role_token.refresh_from_db(), password_token.refresh_from_db(), clinician.refresh_from_db()
    assert clinician.role == Role.CURATOR
    assert role_token.revoked_at is not None and password_token.revoked_at is not None


def test_token_page_shows_a_new_key_once_and_revokes_only_ones_own(client, clinician, curator):
    others, _ = api_token_create(user=curator, name="curator's")
    client.force_login(clinician)
    assert reverse("api_token_list") in client.get(reverse("profile")).content.decode()

    created = client.post(reverse("api_token_list"), {"name": "nightly", "scope": "read", "days": "30"})
    key = created.context["new_key"]
    token = ApiToken.objects.get(user=clinician)

    assert key in created.content.decode()
    assert key not in client.get(reverse("api_token_list")).content.decode()
    assert token.name == "nightly" and token.scope == TokenScope.READ
    assert client.post(reverse("api_token_revoke", args=[others.pk])).status_code == 404
    assert client.post(reverse("api_token_revoke", args=[token.pk])).status_code == 302
    token.refresh_from_db(), others.refresh_from_db()
    assert token.revoked_at is not None and others.revoked_at is None


def test_token_page_names_a_too_long_life(client, clinician):
    client.force_login(clinician)

    response = client.post(reverse("api_token_list"), {"name": "x", "scope": "read", "days": "400"})

    assert "less than or equal to 90" in response.content.decode()
    assert not ApiToken.objects.exists()
