"""Who may see and do what, for every route the project defines.

The routes come from the URL resolver, so a new route without a rule here fails
`test_every_route_has_an_access_rule`. Each rule gives the method and the expected status per
persona: anonymous, a clinician who is a member of the project, a clinician who is not, a
curator and an admin. Third-party routes (Django admin, allauth) are guarded by their own apps and
checked separately below.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import Invitation
from tests.factories import SeedTaskFactory

PERSONAS = ("anonymous", "clinician", "outsider", "curator", "admin")
LOGIN = "login"  # a redirect to the login page

# Anonymous HTML requests go to the login page; anonymous API requests get 401.
MEMBERS_ONLY = {"anonymous": LOGIN, "clinician": 200, "outsider": 404, "curator": 200, "admin": 200}
SIGNED_IN = {"anonymous": LOGIN, "clinician": 200, "outsider": 200, "curator": 200, "admin": 200}
ADMINS_ONLY = {"anonymous": LOGIN, "clinician": 403, "outsider": 403, "curator": 403, "admin": 200}
API_MEMBERS_ONLY = {"anonymous": 401, "clinician": 200, "outsider": 404, "curator": 200, "admin": 200}
API_SIGNED_IN = {"anonymous": 401, "clinician": 200, "outsider": 200, "curator": 200, "admin": 200}
EVERYONE = dict.fromkeys(PERSONAS, 200)

RULES = {
    "healthz": ("get", EVERYONE),
    "dashboard": ("get", SIGNED_IN),
    "profile": ("get", SIGNED_IN),
    "task_list": ("get", MEMBERS_ONLY),
    "project_guidelines": ("get", MEMBERS_ONLY),
    "task_detail": ("get", MEMBERS_ONLY),
    "task_edit": ("get", MEMBERS_ONLY),
    "invitation_list": ("get", ADMINS_ONLY),
    "invitation_revoke": ("post", {**ADMINS_ONLY, "admin": 302}),
    "invitation_accept": ("get", EVERYONE),
    "api_me": ("get", API_SIGNED_IN),
    "api_project_list": ("get", API_SIGNED_IN),
    "api_project_detail": ("get", API_MEMBERS_ONLY),
    "api_task_list": ("get", API_MEMBERS_ONLY),
    "api_task_detail": ("get", API_MEMBERS_ONLY),
    "api_schema": ("get", API_SIGNED_IN),
    "api_docs": ("get", API_SIGNED_IN),
}
THIRD_PARTY_MODULES = ("django.contrib.admin", "allauth")


def _project_routes():
    """(name, pattern) for every route whose view is the project's own."""

    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin":
                    continue
                yield from walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                module = getattr(entry.callback, "__module__", "")
                if not module.startswith(THIRD_PARTY_MODULES):
                    yield entry.name, prefix + str(entry.pattern)

    return list(walk(get_resolver().url_patterns))


def test_every_route_has_an_access_rule():
    routes = _project_routes()
    unnamed = [pattern for name, pattern in routes if not name]
    assert not unnamed, f"routes without a name cannot have a rule: {unnamed}"
    missing = sorted({name for name, _ in routes} - set(RULES))
    assert not missing, f"add an access rule for: {missing}"
    stale = sorted(set(RULES) - {name for name, _ in routes})
    assert not stale, f"rules for routes that no longer exist: {stale}"


@pytest.fixture
def world(project, clinician, outsider, curator, admin_user):
    task = SeedTaskFactory(project=project)
    invitation = Invitation.objects.create(email="someone@example.org", invited_by=admin_user)
    users = {"clinician": clinician, "outsider": outsider, "curator": curator, "admin": admin_user}
    kwargs = {
        "task_list": {"slug": project.slug},
        "project_guidelines": {"slug": project.slug},
        "task_detail": {"slug": project.slug, "task_id": task.pk},
        "task_edit": {"slug": project.slug, "task_id": task.pk},
        "invitation_revoke": {"invitation_id": invitation.pk},
        "invitation_accept": {"token": invitation.token},
        "api_project_detail": {"slug": project.slug},
        "api_task_list": {"slug": project.slug},
        "api_task_detail": {"slug": project.slug, "task_id": task.pk},
    }
    return users, kwargs


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(RULES))
def test_access_rule(client, world, name, persona):
    users, kwargs = world
    method, expected_by_persona = RULES[name]
    if persona != "anonymous":
        client.force_login(users[persona])
    response = getattr(client, method)(reverse(name, kwargs=kwargs.get(name)))
    expected = expected_by_persona[persona]
    if expected == LOGIN:
        assert response.status_code == 302, response
        assert response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == expected, f"{name} as {persona}: {response.status_code}"


@pytest.mark.parametrize(("persona", "expected"), [("clinician", 302), ("curator", 302), ("admin", 200)])
def test_django_admin_is_for_admins_only(client, world, persona, expected):
    users, _ = world
    client.force_login(users[persona])
    assert client.get(reverse("admin:index")).status_code == expected


def test_api_token_authenticates_and_a_wrong_token_does_not(client, clinician):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=clinician)
    ok = client.get(reverse("api_me"), headers={"Authorization": f"Token {token.key}"})
    assert ok.status_code == 200 and ok.json()["email"] == clinician.email
    bad = client.get(reverse("api_me"), headers={"Authorization": "Token not-a-real-token"})
    assert bad.status_code == 401
