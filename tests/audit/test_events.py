"""Every security- or data-relevant action, done through its page or the API, writes exactly one audit event
naming who did it, from where, to what, and what changed."""

import hashlib
import io
import json
import time
import uuid

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Invitation, Role
from accounts.services import api_token_create
from audit.models import AuditAction, AuditEvent
from audit.selectors import audit_chain_verify
from curation.models import ImportJob, ItemFlag, Membership, Release, Review, TaskStatus
from curation.services.releases import release_build, release_create
from tests.audit.test_every_action import SEEDS
from tests.default_vocabulary import ensure_default_vocabulary
from tests.factories import AssignmentFactory, ClinicianFactory, ModelResponseFactory, SeedTaskFactory
from tests.reviews.test_services import RESPONSE_ANSWERS, SEED_ANSWERS

PASSWORD = "a-good-long-passphrase"
FORWARDED = {"REMOTE_ADDR": "203.0.113.9"}


def only_event(action: str) -> AuditEvent:
    """The one event of `action`; fails naming how many there were."""
    events = list(AuditEvent.objects.filter(action=action))
    assert len(events) == 1, f"{len(events)} {action} events"
    return events[0]


@pytest.fixture
def member(project):
    user = ClinicianFactory(email="member@example.org")
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    Membership.objects.create(project=project, user=user)
    return user


def test_signing_in_and_out_are_events_with_the_client_address(client, member):
    client.post(reverse("account_login"), {"login": member.email, "password": PASSWORD}, **FORWARDED)
    client.post(reverse("account_logout"), **FORWARDED)
    signed_in, signed_out = only_event(AuditAction.SIGN_IN), only_event(AuditAction.SIGN_OUT)
    assert (signed_in.actor, signed_in.client_address, signed_in.object_id) == (member, "203.0.113.9", str(member.pk))
    assert (signed_out.actor, signed_out.client_address) == (member, "203.0.113.9")
    assert audit_chain_verify().broken is None


def test_a_failed_sign_in_records_the_address_typed_and_no_password(client, member):
    client.post(reverse("account_login"), {"login": member.email, "password": "not-the-password"}, **FORWARDED)
    failed = only_event(AuditAction.SIGN_IN_FAILED)
    assert failed.actor is None and failed.client_address == "203.0.113.9"
    assert json.loads(failed.after) == {"email": member.email} and "not-the-password" not in failed.after


def test_behind_a_trusted_proxy_the_forwarded_client_address_is_recorded(client, member, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    client.post(
        reverse("account_login"),
        {"login": member.email, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert only_event(AuditAction.SIGN_IN).client_address == "198.51.100.7"


def test_api_tokens_created_used_and_revoked_are_events(client, member):
    client.force_login(member)
    page = client.post(reverse("api_token_list"), {"name": "export script", "scope": "read", "days": 30})
    created = only_event(AuditAction.TOKEN_CREATED)
    key = page.context["new_key"]
    assert created.actor == member and json.loads(created.after)["name"] == "export script"
    client.logout()
    for _ in range(2):  # use is recorded at most once a minute, like last_used_at
        assert client.get(reverse("api_me"), headers={"Authorization": f"Token {key}"}).status_code == 200
    used = only_event(AuditAction.TOKEN_USED)
    assert (used.actor, used.object_id) == (member, created.object_id)
    client.force_login(member)
    client.post(reverse("api_token_revoke", args=[created.object_id]))
    assert only_event(AuditAction.TOKEN_REVOKED).object_id == created.object_id


def test_an_invitation_sent_and_accepted_are_events(client, admin_user):
    client.force_login(admin_user)
    client.post(reverse("invitation_list"), {"email": "new@example.org", "role": Role.CLINICIAN})
    sent = only_event(AuditAction.INVITATION_SENT)
    assert sent.actor == admin_user and json.loads(sent.after)["email"] == "new@example.org"
    client.logout()
    invitation = Invitation.objects.get(email="new@example.org")
    url = reverse("invitation_accept", args=[invitation.token])
    client.post(url, {"password1": PASSWORD, "password2": PASSWORD})
    accepted = only_event(AuditAction.INVITATION_ACCEPTED)
    assert accepted.actor.email == "new@example.org" and accepted.object_id == str(invitation.pk)


def test_a_role_change_records_the_old_and_new_role(client, admin_user, clinician):
    client.force_login(admin_user)
    client.post(reverse("person_role", args=[clinician.pk]), {"role": Role.CURATOR})
    changed = only_event(AuditAction.ROLE_CHANGED)
    assert changed.actor == admin_user and changed.object_id == str(clinician.pk)
    assert (json.loads(changed.before), json.loads(changed.after)) == ({"role": "clinician"}, {"role": "curator"})


def test_deactivating_a_person_is_an_event(client, admin_user, clinician):
    client.force_login(admin_user)
    client.post(reverse("person_deactivate", args=[clinician.pk]))
    assert only_event(AuditAction.USER_DEACTIVATED).object_id == str(clinician.pk)


def test_adding_and_removing_a_member_are_events_of_the_project(client, project, curator):
    newcomer = ClinicianFactory(email="newcomer@example.org")
    client.force_login(curator)
    client.post(reverse("member_list", args=[project.slug]), {"people": [newcomer.pk]})
    added = only_event(AuditAction.MEMBER_ADDED)
    assert (added.actor, added.project_id, json.loads(added.after)["user_id"]) == (curator, project.pk, newcomer.pk)
    client.post(reverse("member_remove", args=[project.slug, newcomer.pk]))
    removed = only_event(AuditAction.MEMBER_REMOVED)
    assert removed.project_id == project.pk and json.loads(removed.before)["email"] == newcomer.email


def digest(text: str) -> dict:
    return {"sha256": hashlib.sha256(text.encode()).hexdigest(), "length": len(text)}


def test_a_review_submitted_through_the_api_is_an_event_with_its_answers(client, project, clinician):
    assignment = AssignmentFactory(seed_task=SeedTaskFactory(project=project), reviewer=clinician)
    client.force_login(clinician)
    body = {"assignment": assignment.pk, "answers": SEED_ANSWERS, "submission_key": str(uuid.uuid4())}
    url = reverse("api_review_submit", args=[project.slug])
    assert client.post(url, body, content_type="application/json").status_code == 201
    assert client.post(url, body, content_type="application/json").status_code in (200, 201)  # a retried request
    submitted = only_event(AuditAction.REVIEW_SUBMITTED)
    review = Review.objects.get()
    assert (submitted.actor, submitted.project_id, submitted.object_id) == (clinician, project.pk, str(review.pk))
    assert json.loads(submitted.after) == {"answers": review.answers, "corrected_text": "", "version": 1}
    assert submitted.before == ""


def test_a_flag_raised_and_cleared_are_events(client, project, clinician, curator):
    assignment = AssignmentFactory(seed_task=SeedTaskFactory(project=project), reviewer=clinician)
    client.force_login(clinician)
    client.post(reverse("review_flag", args=[project.slug, assignment.pk]), {"kind": "unsafe", "note": "Wrong dose"})
    raised = only_event(AuditAction.FLAG_RAISED)
    assert raised.actor == clinician and json.loads(raised.after) == {"kind": "unsafe", "note": digest("Wrong dose")}
    client.force_login(curator)
    flag = ItemFlag.objects.get()
    client.post(reverse("flag_clear", args=[project.slug, flag.pk]), {"note": "Dose corrected"})
    cleared = only_event(AuditAction.FLAG_CLEARED)
    assert (cleared.actor, cleared.object_id) == (curator, str(flag.pk))


def test_an_edit_of_an_item_records_the_old_and_new_values(client, project, clinician):
    task = SeedTaskFactory(project=project, instruction="Explain angina.")
    client.force_login(clinician)
    form = {
        **{name: getattr(task, name) for name in ("input", "reference_output", "topic_raw", "view_raw")},
        **{"task_type_raw": task.task_type_raw, "difficulty": str(task.difficulty or "")},
        **{"instruction": "Explain stable angina.", "rationale": "More precise", "version": str(task.version)},
    }
    assert client.post(reverse("task_edit", args=[project.slug, task.pk]), form).status_code == 302
    edited = only_event(AuditAction.TASK_EDITED)
    assert (edited.actor, edited.object_id) == (clinician, str(task.pk))
    # The trail names the texts by digest: they stay in the task's history, where a redaction can reach them.
    assert json.loads(edited.before) == {"instruction": digest("Explain angina.")}
    assert json.loads(edited.after) == {"instruction": digest("Explain stable angina."), "rationale": "More precise"}


def test_the_trail_never_keeps_a_reviewers_own_words_only_their_digest(client, project, clinician):
    """The trail is kept for years and cannot be changed, so a comment or correction holding PHI must not land
    in it: free text and corrections are named by SHA-256 and length; choices and scores are kept as given."""
    answer = ModelResponseFactory(seed_task=SeedTaskFactory(project=project))
    assignment = AssignmentFactory(seed_task=None, response=answer, reviewer=clinician)
    client.force_login(clinician)
    comment = "Patient John Smith, MRN 12345678, reacted badly"
    answers = {**RESPONSE_ANSWERS, "comment": comment}
    body = {
        "assignment": assignment.pk,
        "answers": answers,
        "corrected_text": "Rest and fluids.",
        "submission_key": str(uuid.uuid4()),
    }
    response = client.post(reverse("api_review_submit", args=[project.slug]), body, content_type="application/json")
    assert response.status_code == 201, response.json()

    submitted = only_event(AuditAction.REVIEW_SUBMITTED)
    assert "John Smith" not in submitted.after and "Rest and fluids" not in submitted.after
    after = json.loads(submitted.after)
    assert after["answers"]["comment"] == digest(comment)
    assert after["answers"]["consensus"] == "aligned" and after["answers"]["correctness"] == 4
    assert after["corrected_text"] == digest("Rest and fluids.")


@pytest.mark.parametrize("route", ["release_download", "api_release_download"])
def test_every_download_of_a_release_file_is_an_event(client, project, admin_user, settings, tmp_path, route):
    settings.MEDIA_ROOT = tmp_path / "media"
    SeedTaskFactory(project=project, status=TaskStatus.ACCEPTED, reference_output="Rest, fluids.")  # a release row
    release = release_build(
        release_id=release_create(project=project, created_by=admin_user, format="alpaca", enqueue=False).pk
    )
    client.force_login(admin_user)
    assert client.get(reverse(route, args=[project.slug, release.pk]), **FORWARDED).status_code == 200
    downloaded = only_event(AuditAction.RELEASE_DOWNLOADED)
    assert (downloaded.actor, downloaded.object_id, downloaded.client_address) == (
        admin_user,
        str(release.pk),
        "203.0.113.9",
    )
    assert json.loads(downloaded.after)["sha256"] == release.sha256


def test_a_token_used_by_a_script_is_recorded_with_its_owner(client, clinician):
    _, key = api_token_create(user=clinician, name="script")
    client.get(reverse("api_me"), headers={"Authorization": f"Token {key}"})
    assert only_event(AuditAction.TOKEN_USED).actor == clinician


def test_revealing_reviewer_names_in_adjudication_is_an_event(client, project, curator):
    task = SeedTaskFactory(project=project)
    client.force_login(curator)
    assert client.get(reverse("adjudicate_task", args=[project.slug, task.pk])).status_code == 200
    assert not AuditEvent.objects.filter(action=AuditAction.REVIEWERS_REVEALED).exists()  # blind by default
    assert client.get(reverse("adjudicate_task", args=[project.slug, task.pk]), {"reveal": "1"}).status_code == 200
    revealed = only_event(AuditAction.REVIEWERS_REVEALED)
    assert (revealed.actor, revealed.object_id, revealed.project_id) == (curator, str(task.pk), project.pk)


@pytest.fixture
def vocabulary(db):
    ensure_default_vocabulary()


def upload(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("seed.json", content, content_type="application/json")


def test_an_import_queued_on_the_page_and_finished_by_the_worker_records_its_file_and_counts(
    client, project, curator, settings, tmp_path, vocabulary, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(curator)
    job_page = client.post(reverse("import_list", args=[project.slug]), {"file": upload(json.dumps(SEEDS).encode())})
    assert not AuditEvent.objects.filter(action=AuditAction.IMPORT_QUEUED).exists()  # a preview is not queued
    with django_capture_on_commit_callbacks(execute=True):
        client.post(job_page["Location"], {"confirm": "1"}, **FORWARDED)

    queued, finished = only_event(AuditAction.IMPORT_QUEUED), only_event(AuditAction.IMPORT_FINISHED)
    job = ImportJob.objects.get()
    assert (queued.actor, queued.client_address, queued.project_id) == (curator, "203.0.113.9", project.pk)
    assert json.loads(queued.after) | {"file_hash": ""} == {
        "file_name": "seed.json",
        "file_size": job.file_size,
        "file_hash": "",
        "format": "",
        "model_name": "",
    }
    assert finished.id > queued.id and finished.actor == curator
    after = json.loads(finished.after)
    assert (after["status"], after["records_written"], after["created"]) == ("succeeded", 3, {"seed_tasks": 3})


def test_an_import_refused_for_its_problems_finishes_with_their_count(
    client, project, curator, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(curator)
    bad = json.dumps([*SEEDS, {"instruction": "", "difficulty": "very hard"}]).encode()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("api_import_list", args=[project.slug]), {"file": upload(bad)}).status_code == 202
    after = json.loads(only_event(AuditAction.IMPORT_FINISHED).after)
    assert after["status"] == "failed" and after["problem_count"] >= 1 and after["records_written"] == 0


def test_an_import_from_the_command_line_is_queued_and_finished_once_each(project, tmp_path, vocabulary):
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(SEEDS))
    call_command("import_items", str(path), "--project", project.slug, stdout=io.StringIO())
    queued, finished = only_event(AuditAction.IMPORT_QUEUED), only_event(AuditAction.IMPORT_FINISHED)
    assert queued.object_id == finished.object_id == str(ImportJob.objects.get().pk)
    assert queued.actor is None and queued.client_address == ""  # no person, no address: the command line


def test_a_release_built_records_its_file_and_the_trail_head_its_manifest_holds(
    client, project, admin_user, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    SeedTaskFactory(project=project, status=TaskStatus.ACCEPTED, reference_output="Rest, fluids.")
    client.force_login(admin_user)
    form = {"format": "alpaca", "license": "CC BY 4.0", "statuses": ["accepted"], "min_reviewers": "0"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("release_list", args=[project.slug]), form)

    release = Release.objects.get()
    created, built = only_event(AuditAction.RELEASE_CREATED), only_event(AuditAction.RELEASE_BUILT)
    assert json.loads(created.after)["definition_hash"] == release.definition_hash
    manifest = json.loads((settings.MEDIA_ROOT / release.file_path).with_name("manifest.json").read_text())
    after = json.loads(built.after)
    assert (after["sha256"], after["row_count"], after["file"]) == (release.sha256, 1, release.file_path)
    # The head the manifest holds is the trail as the build saw it, which ended with the release's creation.
    assert after["audit_chain_head"] == manifest["audit_chain_head"] == {"id": created.id, "hash": created.hash}


def test_enrolling_an_authenticator_app_is_one_event_though_recovery_codes_come_with_it(
    client, member, django_capture_on_commit_callbacks
):
    client.post(reverse("account_login"), {"login": member.email, "password": PASSWORD})
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    client.get(reverse("mfa_activate_totp"))
    code = format_hotp_value(hotp_value(client.session[SECRET_SESSION_KEY], int(time.time()) // 30))
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("mfa_activate_totp"), {"code": code}).status_code == 302
    enrolled = only_event(AuditAction.MFA_ENROLLED)
    totp = Authenticator.objects.get(user=member, type=Authenticator.Type.TOTP)
    assert json.loads(enrolled.after) == {"type": "totp", "authenticator_id": totp.pk}
    assert enrolled.object_id == str(member.pk)
