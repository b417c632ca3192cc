"""PHI findings: what a scan records, the flag it raises, and a curator's clearance or redaction."""

import hashlib
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditAction, AuditEvent
from curation.models import AcceptedTaskEdits, FlagKind, ItemFlag, SeedTask, TaskStatus
from curation.models.phi import PhiFinding, PhiFindingState, PhiScan
from curation.phi import SCANNER_VERSION
from curation.services.phi import phi_item_scan
from curation.services.phi_findings import phi_finding_clear, phi_finding_redact
from curation.services.reviews import review_submit
from tests.factories import ModelResponseFactory, PromptFactory
from tests.phi.conftest import WITH_PHI

ANSWERS = {"decision": "accept", "clinical_validity": 4, "clarity": 4, "difficulty": 3}


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _open(task: SeedTask):
    return PhiFinding.objects.filter(item_task=task, state=PhiFindingState.OPEN).order_by("start")


def _scanner_flag(task: SeedTask):
    return ItemFlag.objects.filter(seed_task=task, kind=FlagKind.PHI, raised_by__isnull=True, cleared_at__isnull=True)


def test_a_scan_records_each_finding_with_its_field_revision_and_span(scanned_task):
    name, date = _open(scanned_task)

    assert (name.kind, name.start, name.end, name.field) == ("NAME", 8, 18, "instruction")
    assert (date.kind, date.start, date.end) == ("DATE", 24, 34)
    assert WITH_PHI[date.start : date.end] == "03/14/1931"
    assert {name.revision, date.revision} == {scanned_task.version}
    assert name.recognizer and 0.5 <= name.score <= 1 and name.scanner_version == SCANNER_VERSION
    scan = PhiScan.objects.get(seed_task=scanned_task)
    assert scan.content_hash == scanned_task.content_hash and scan.scanner_version == SCANNER_VERSION


def test_open_findings_raise_one_phi_flag_from_the_scanner(scanned_task):
    phi_item_scan(owner=scanned_task)  # scanning again replaces the findings, it does not add a flag

    assert _open(scanned_task).count() == 2
    flag = _scanner_flag(scanned_task).get()
    assert flag.raised_by is None


def test_a_clean_text_is_scanned_without_finding_or_flag(clean_task):
    assert not _open(clean_task).exists()
    assert not ItemFlag.objects.filter(seed_task=clean_task).exists()
    assert PhiScan.objects.filter(seed_task=clean_task).exists()


def test_clearing_one_of_two_findings_keeps_the_flag_and_clearing_the_last_lifts_it(scanned_task, curator):
    name, date = _open(scanned_task)

    phi_finding_clear(finding_id=name.pk, curator=curator, reason="A textbook vignette name, not a patient")
    assert _scanner_flag(scanned_task).exists()

    phi_finding_clear(finding_id=date.pk, curator=curator, reason="Invented date in a teaching case")
    assert not _scanner_flag(scanned_task).exists()
    lifted = ItemFlag.objects.get(seed_task=scanned_task, kind=FlagKind.PHI)
    assert lifted.cleared_by == curator and lifted.cleared_at is not None
    name.refresh_from_db()
    assert (name.state, name.decided_by, name.reason) == (
        PhiFindingState.CLEARED,
        curator,
        "A textbook vignette name, not a patient",
    )


def test_clearing_needs_a_reason_and_a_curator(scanned_task, curator, clinician):
    finding = _open(scanned_task).first()

    with pytest.raises(ValidationError) as refused:
        phi_finding_clear(finding_id=finding.pk, curator=curator, reason="  ")
    assert "reason" in refused.value.message_dict
    with pytest.raises(PermissionDenied):
        phi_finding_clear(finding_id=finding.pk, curator=clinician, reason="not PHI")
    finding.refresh_from_db()
    assert finding.state == PhiFindingState.OPEN


def test_a_decided_finding_cannot_be_decided_again(scanned_task, curator):
    finding = _open(scanned_task).first()
    phi_finding_clear(finding_id=finding.pk, curator=curator, reason="not a patient")

    with pytest.raises(ValidationError, match="already cleared"):
        phi_finding_redact(finding_id=finding.pk, curator=curator)


def test_a_redaction_makes_a_new_revision_of_the_task_with_a_rationale(scanned_task, curator):
    _name, date = _open(scanned_task)

    phi_finding_redact(finding_id=date.pk, curator=curator)

    task = SeedTask.objects.get(pk=scanned_task.pk)
    assert task.version == scanned_task.version + 1
    assert task.instruction == WITH_PHI.replace("03/14/1931", "[DATE]")
    latest = task.history.latest()
    assert latest.history_user == curator and "Redacted DATE" in latest.history_change_reason
    assert task.history.earliest().instruction == WITH_PHI  # the earlier revision stays in the history
    date.refresh_from_db()
    assert date.state == PhiFindingState.REDACTED and date.decided_by == curator
    # The name is still open, found again in the new revision.
    [still_open] = _open(task)
    assert (still_open.kind, still_open.revision, still_open.start) == ("NAME", task.version, 8)
    assert _scanner_flag(task).exists()
    assert PhiScan.objects.get(seed_task=task).content_hash == task.content_hash


def test_redacting_an_accepted_task_returns_it_to_review(scanned_task, curator):
    phi_finding_redact(finding_id=_open(scanned_task).first().pk, curator=curator)

    assert SeedTask.objects.get(pk=scanned_task.pk).status == TaskStatus.IN_REVIEW


def test_a_project_that_refuses_edits_of_accepted_tasks_still_lets_a_curator_redact_phi_from_one(scanned_task, curator):
    """Otherwise the finding could only stay open (the item never released) or be cleared though it is PHI."""
    project = scanned_task.project
    project.accepted_task_edits = AcceptedTaskEdits.REFUSE
    project.save(update_fields=["accepted_task_edits"])

    phi_finding_redact(finding_id=_open(scanned_task).last().pk, curator=curator)

    task = SeedTask.objects.get(pk=scanned_task.pk)
    assert task.instruction == WITH_PHI.replace("03/14/1931", "[DATE]")
    assert task.status == TaskStatus.IN_REVIEW  # a new revision, unreviewed, as in any project


def test_clearing_and_redacting_are_audit_events_that_never_hold_the_text(scanned_task, curator):
    name, date = _open(scanned_task)

    phi_finding_clear(finding_id=name.pk, curator=curator, reason="Fictional name")
    phi_finding_redact(finding_id=date.pk, curator=curator)

    cleared = AuditEvent.objects.get(action=AuditAction.PHI_CLEARED)
    redacted = AuditEvent.objects.get(action=AuditAction.PHI_REDACTED)
    assert cleared.actor == curator and redacted.actor == curator
    assert cleared.object_id == str(name.pk) and redacted.object_id == str(date.pk)
    assert cleared.project_id == scanned_task.project_id
    assert '"reason":"Fictional name"' in cleared.after
    assert '"placeholder":"[DATE]"' in redacted.after
    for event in (cleared, redacted):
        assert "John Smith" not in event.after and "03/14/1931" not in event.after


def test_no_audit_event_of_a_redaction_keeps_the_text_it_removed(scanned_task, curator):
    """The trail is append-only and kept for years: the edit a redaction makes names its texts by digest."""
    _name, date = _open(scanned_task)

    phi_finding_redact(finding_id=date.pk, curator=curator)

    for event in AuditEvent.objects.all():
        assert "03/14/1931" not in event.before + event.after, event.action
    edited = AuditEvent.objects.get(action=AuditAction.TASK_EDITED)
    task = SeedTask.objects.get(pk=scanned_task.pk)
    assert json.loads(edited.before)["instruction"] == {"sha256": sha256_text(WITH_PHI), "length": len(WITH_PHI)}
    assert json.loads(edited.after)["instruction"]["sha256"] == sha256_text(task.instruction)
    assert json.loads(edited.after)["status"] == TaskStatus.IN_REVIEW


def test_a_review_comment_with_phi_flags_the_reviewed_task_and_its_redaction_is_a_new_review(
    clean_task, clinician, curator
):
    review = review_submit(
        reviewer=clinician,
        schema=clean_task.project.seed_schema,
        seed_task=clean_task,
        answers={**ANSWERS, "comment": "Reminds me of Mrs. Jane Doe seen on 02/03/2024."},
    )

    findings = list(PhiFinding.objects.filter(review=review, state=PhiFindingState.OPEN).order_by("start"))
    assert {f.field for f in findings} == {"answers.comment"}
    assert {f.kind for f in findings} == {"NAME", "DATE"}
    assert _scanner_flag(clean_task).exists()

    for _ in findings:  # each redaction is a new review, whose remaining findings are found again
        phi_finding_redact(finding_id=_open(clean_task).first().pk, curator=curator)

    current = clean_task.reviews.get(is_current=True)
    assert current.version == 3 and current.reviewer == clinician
    assert current.answers["comment"] == "Reminds me of Mrs. [NAME] seen on [DATE]."
    assert not _scanner_flag(clean_task).exists()


def test_a_model_response_is_redacted_in_place_and_its_finding_keeps_what_was_replaced(project, curator):
    prompt = PromptFactory(project=project)
    response = ModelResponseFactory(seed_task=None, prompt=prompt, text="Email me at jane.doe@example.com today.")
    [finding] = phi_item_scan(owner=response)

    phi_finding_redact(finding_id=finding.pk, curator=curator)

    response.refresh_from_db()
    assert response.text == "Email me at [EMAIL] today."
    finding.refresh_from_db()
    assert (finding.kind, finding.field, finding.state) == ("EMAIL", "text", PhiFindingState.REDACTED)
