"""The audit page and export: admins only, filtered by person, project, action and date, paged by key."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditAction, AuditEvent
from audit.services import audit_record
from curation.models import Project
from tests.factories import ClinicianFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(project, clinician, curator):
    audit_record(action=AuditAction.SIGN_IN, target=clinician, actor=clinician)
    audit_record(action=AuditAction.FLAG_RAISED, actor=clinician, project_id=project.pk, after={"kind": "unsafe"})
    audit_record(action=AuditAction.FLAG_CLEARED, actor=curator, project_id=project.pk, after={"note": "done"})


@pytest.mark.parametrize("persona", ["clinician", "curator"])
def test_only_admins_see_the_audit_trail(client, events, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("audit_list")).status_code == 403
    assert client.get(reverse("audit_export")).status_code == 403


def test_the_page_filters_by_person_project_and_action(client, admin_user, events, project, clinician):
    client.force_login(admin_user)
    page = client.get(reverse("audit_list"), {"person": clinician.pk, "project": project.pk})
    assert [e.action for e in page.context["events"]] == [AuditAction.FLAG_RAISED]
    page = client.get(reverse("audit_list"), {"action": AuditAction.SIGN_IN})
    assert [e.actor for e in page.context["events"]] == [admin_user, clinician]  # the admin's own sign-in first


def test_a_date_range_backwards_is_refused_with_both_dates_named(client, admin_user, events):
    client.force_login(admin_user)
    page = client.get(reverse("audit_list"), {"since": "2026-03-02", "until": "2026-03-01"})
    assert "&#x27;From&#x27; (2026-03-02) is after &#x27;To&#x27; (2026-03-01)" in page.content.decode()
    assert page.context["events"] == []
    refused = client.get(reverse("audit_export"), {"since": "2026-03-02", "until": "2026-03-01"})
    assert refused.status_code == 400 and "2026-03-02" in refused.content.decode()


def test_the_page_is_paged_by_key_newest_first(client, admin_user, monkeypatch):
    person = ClinicianFactory()
    for _ in range(5):
        audit_record(action=AuditAction.SIGN_IN, target=person, actor=person)
    monkeypatch.setattr("audit.views.PAGE_SIZE", 2)
    client.force_login(admin_user)
    seen, url = [], reverse("audit_list") + f"?person={person.pk}"
    while url:
        page = client.get(url)
        seen += [e.pk for e in page.context["events"]]
        older = page.context["older"]
        url = reverse("audit_list") + f"?person={person.pk}&before={older}" if older else None
    assert seen == sorted(AuditEvent.objects.filter(actor=person).values_list("pk", flat=True), reverse=True)


def test_the_export_streams_the_selected_events_oldest_first_and_is_itself_recorded(
    client, admin_user, events, project
):
    client.force_login(admin_user)
    response = client.get(reverse("audit_export"), {"project": project.pk})
    assert response.streaming and response["Content-Type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert [line["action"] for line in lines] == [AuditAction.FLAG_RAISED, AuditAction.FLAG_CLEARED]
    assert lines[0]["after"] == {"kind": "unsafe"} and lines[1]["prev_hash"] == lines[0]["hash"]
    exported = AuditEvent.objects.get(action=AuditAction.AUDIT_EXPORTED)
    assert exported.actor == admin_user and json.loads(exported.after) == {"filters": {"project": str(project.pk)}}


def test_the_export_command_writes_the_same_lines(events, tmp_path, project):
    from django.core.management import call_command

    out = tmp_path / "audit.jsonl"
    call_command("audit_export", "--output", str(out), "--project", project.slug)
    assert [json.loads(line)["action"] for line in out.read_text().splitlines()] == ["flag_raised", "flag_cleared"]


def test_the_export_command_names_an_unknown_project(events):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--project 'nowhere': no project has this slug"):
        call_command("audit_export", "--project", "nowhere")


def test_the_page_names_each_events_project_in_the_same_queries_however_many_projects(client, admin_user):
    client.force_login(admin_user)

    def queries_with(n_projects: int) -> int:
        for _ in range(n_projects):
            audit_record(action=AuditAction.SETTINGS_CHANGED, project_id=ProjectFactory().pk)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("audit_list")).status_code == 200
        return len(captured)

    assert queries_with(2) == queries_with(20)
    newest = Project.objects.get(pk=AuditEvent.objects.filter(action=AuditAction.SETTINGS_CHANGED).first().project_id)
    page = client.get(reverse("audit_list")).content.decode()
    assert f'{newest.name} <span class="muted">#{newest.pk}</span>' in page
