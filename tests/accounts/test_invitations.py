import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, Role, User


def _invite(client, admin_user, **fields):
    client.force_login(admin_user)
    data = {
        "email": "new.doctor@example.org",
        "role": Role.CLINICIAN,
        "name": "New Doctor",
        "specialty": "nephrology",
        "credentials": "MD, nephrology",
        **fields,
    }
    return client.post(reverse("invitation_list"), data)


def test_admin_invites_by_email_and_the_link_sets_the_password(client, admin_user):
    response = _invite(client, admin_user)
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/invite/\S+/)", mail.outbox[0].body).group(1)

    client.logout()
    page = client.get(link)
    assert page.status_code == 200 and "new.doctor@example.org" in page.content.decode()
    response = client.post(link, {"password1": "a-good-long-passphrase", "password2": "a-good-long-passphrase"})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")

    user = User.objects.get(email="new.doctor@example.org")
    assert (user.role, user.specialty, user.credentials) == ("clinician", "nephrology", "MD, nephrology")
    assert user.check_password("a-good-long-passphrase")
    assert client.get(reverse("dashboard")).status_code == 200


def test_an_invitation_link_works_once(client, admin_user):
    _invite(client, admin_user)
    link = reverse("invitation_accept", args=[Invitation.objects.get().token])
    client.logout()
    client.post(link, {"password1": "a-good-long-passphrase", "password2": "a-good-long-passphrase"})
    client.logout()
    assert client.get(link).status_code == 404


def test_expired_and_revoked_invitations_do_not_open(client, admin_user):
    _invite(client, admin_user)
    invitation = Invitation.objects.get()
    invitation.expires_at = timezone.now()
    invitation.save(update_fields=["expires_at"])
    assert client.get(reverse("invitation_accept", args=[invitation.token])).status_code == 404
    client.post(reverse("invitation_revoke", args=[invitation.pk]))
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_weak_or_mismatched_passwords_are_refused_without_creating_an_account(client, admin_user):
    _invite(client, admin_user)
    link = reverse("invitation_accept", args=[Invitation.objects.get().token])
    client.logout()
    weak = client.post(link, {"password1": "12345678", "password2": "12345678"})
    assert weak.status_code == 200 and "too short" in weak.content.decode()
    mismatch = client.post(link, {"password1": "a-good-long-passphrase", "password2": "another-long-one"})
    assert "differ" in mismatch.content.decode()
    assert not User.objects.filter(email="new.doctor@example.org").exists()


def test_inviting_an_existing_account_is_refused_with_a_message(client, admin_user, clinician):
    response = _invite(client, admin_user, email=clinician.email)
    assert response.status_code == 200
    assert "already has an account" in response.content.decode()
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_there_is_no_open_sign_up(client):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "walk.in@example.org",
            "password1": "a-good-long-passphrase",
            "password2": "a-good-long-passphrase",
        },
    )
    assert "closed" in response.content.decode().lower()
    assert not User.objects.filter(email="walk.in@example.org").exists()


def test_login_with_email_and_password(client, clinician):
    response = client.post(reverse("account_login"), {"login": clinician.email, "password": "a-long-test-password"})
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200


@pytest.mark.django_db
def test_repeated_failed_logins_are_rate_limited(client, clinician):
    pages = [
        client.post(reverse("account_login"), {"login": clinician.email, "password": "wrong"}).content.decode()
        for _ in range(6)
    ]
    assert "Too many failed login attempts" not in pages[0]
    assert "Too many failed login attempts" in pages[-1]
    # Even the right password is refused until the window passes.
    right = client.post(reverse("account_login"), {"login": clinician.email, "password": "a-long-test-password"})
    assert right.status_code == 200 and "Too many failed login attempts" in right.content.decode()


def test_admin_without_totp_is_sent_to_enrol_when_mfa_is_required(client, admin_user, settings):
    settings.CONCORD_REQUIRE_ADMIN_MFA = True
    client.force_login(admin_user)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("mfa_activate_totp"))


def test_clinicians_are_not_forced_into_mfa(client, clinician, settings):
    settings.CONCORD_REQUIRE_ADMIN_MFA = True
    client.force_login(clinician)
    assert client.get(reverse("dashboard")).status_code == 200
