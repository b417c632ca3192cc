"""The People page: admins see everyone and put invited people to work without the Django admin."""

import json
import re

from django.core import mail
from django.urls import reverse

from accounts.models import ApiToken, Role, User
from accounts.services import api_token_create
from audit.models import AuditAction, AuditEvent
from tests.factories import ClinicianFactory, MembershipFactory, ProjectFactory


def test_an_invitation_names_projects_and_accepting_it_makes_the_person_a_member(client, admin_user, project):
    other = ProjectFactory(slug="nephro", name="Nephrology")
    client.force_login(admin_user)
    client.post(
        reverse("invitation_list"),
        {"email": "new.doctor@example.org", "role": Role.CLINICIAN, "projects": [project.pk, other.pk]},
    )
    link = re.search(r"http://testserver(/accounts/invite/\S+/)", mail.outbox[0].body).group(1)
    client.logout()

    client.post(link, {"password1": "a-good-long-passphrase", "password2": "a-good-long-passphrase"})

    person = User.objects.get(email="new.doctor@example.org")
    assert set(person.memberships.values_list("project__slug", flat=True)) == {"cardio", "nephro"}
    # The newcomer's dashboard lists the projects, not "You are not a member of any project yet".
    page = client.get(reverse("dashboard")).content.decode()
    assert "Cardiology seeds" in page and "Nephrology" in page


def test_the_people_page_lists_people_with_role_specialty_projects_and_last_sign_in(client, admin_user, clinician):
    clinician.specialty = "cardiology"
    clinician.save()
    client.force_login(admin_user)

    page = client.get(reverse("people_list")).content.decode()

    assert "clinician@example.org" in page and "cardiology" in page and "Cardiology seeds" in page
    assert "never" in page  # the clinician has not signed in yet
    assert reverse("person_deactivate", args=[clinician.pk]) in page
    assert reverse("person_deactivate", args=[admin_user.pk]) not in page  # no control to lock oneself out


def test_an_admin_changes_a_role_and_the_old_tokens_stop(client, admin_user, clinician):
    token, _ = api_token_create(user=clinician, name="script")
    client.force_login(admin_user)

    response = client.post(reverse("person_role", args=[clinician.pk]), {"role": Role.CURATOR})

    assert response.status_code == 302
    clinician.refresh_from_db()
    assert clinician.role == Role.CURATOR
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_a_deactivated_person_is_signed_out_and_cannot_sign_in(client, admin_user, project):
    person = ClinicianFactory(email="leaving@example.org")
    person.set_password("a-good-long-passphrase")
    person.save()
    MembershipFactory(project=project, user=person)
    their_browser = client.__class__()
    their_browser.force_login(person)
    assert their_browser.get(reverse("dashboard")).status_code == 200
    client.force_login(admin_user)

    client.post(reverse("person_deactivate", args=[person.pk]))

    assert their_browser.get(reverse("dashboard")).status_code == 302  # sent to the sign-in page
    assert not their_browser.login(email="leaving@example.org", password="a-good-long-passphrase")
    assert person.memberships.exists()  # their membership and work stay for the record


def test_an_admin_cannot_demote_or_deactivate_themselves(client, admin_user):
    client.force_login(admin_user)

    assert client.post(reverse("person_role", args=[admin_user.pk]), {"role": Role.CLINICIAN}).status_code == 403
    assert client.post(reverse("person_deactivate", args=[admin_user.pk])).status_code == 403
    admin_user.refresh_from_db()
    assert admin_user.role == Role.ADMIN and admin_user.is_active


def test_an_unknown_role_changes_nothing(client, admin_user, clinician):
    client.force_login(admin_user)

    client.post(reverse("person_role", args=[clinician.pk]), {"role": "overlord"})

    clinician.refresh_from_db()
    assert clinician.role == Role.CLINICIAN


def test_an_admin_grants_a_curator_releases_and_takes_them_back(client, admin_user, curator, project):
    client.force_login(admin_user)
    url = reverse("person_releases", args=[curator.pk])

    client.post(url, {"allowed": "on"})
    client.force_login(User.objects.get(pk=curator.pk))
    assert client.get(reverse("release_list", args=[project.slug])).status_code == 200
    client.force_login(admin_user)
    assert 'name="allowed" checked' in client.get(reverse("people_list")).content.decode()

    client.post(url, {})
    client.force_login(User.objects.get(pk=curator.pk))
    assert client.get(reverse("release_list", args=[project.slug])).status_code == 403
    events = AuditEvent.objects.filter(action=AuditAction.ROLE_CHANGED, object_id=str(curator.pk))
    assert [json.loads(e.after) for e in events.order_by("id")] == [{"make_release": True}, {"make_release": False}]


def test_releases_are_granted_to_curators_only(client, admin_user, clinician):
    client.force_login(admin_user)

    response = client.post(reverse("person_releases", args=[clinician.pk]), {"allowed": "on"}, follow=True)

    assert "Only curators are granted releases" in response.content.decode()
    assert not clinician.user_permissions.exists()


def test_curators_cannot_grant_releases(client, curator, clinician):
    client.force_login(curator)
    assert client.post(reverse("person_releases", args=[curator.pk]), {"allowed": "on"}).status_code == 403
    assert not curator.user_permissions.exists()


def test_the_people_page_costs_the_same_queries_for_3_and_30_people(client, admin_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("people_list")).status_code == 200
        return len(queries)

    client.force_login(admin_user)
    for _ in range(3):
        MembershipFactory(user=ClinicianFactory(), project=ProjectFactory())
    few = count()
    for _ in range(27):
        MembershipFactory(user=ClinicianFactory(), project=ProjectFactory())
    assert count() == few
