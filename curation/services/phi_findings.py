"""A curator's decisions on PHI findings: a span cleared as not PHI, saying why, or redacted into a new
revision of its text; either way the last open finding of an item lifts the scanner's PHI flag.

Scanning, which records the findings and raises the flag, is curation.services.phi.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit.services import AuditAction, audit_record
from curation.access import require_curator
from curation.models import Review, SeedTask
from curation.models.phi import PhiFinding, PhiFindingState, PhiScan
from curation.phi import Finding, PhiKind, phi_redact
from curation.selectors.phi import phi_field_text
from curation.services.phi import Owner, phi_flag_sync, phi_item_scan, revision_of, span_hash
from curation.services.seed_tasks import seed_task_edit

REASON_LIMIT = 2_000


def _locked_open(finding_id: int) -> PhiFinding:
    finding = PhiFinding.objects.select_for_update().get(pk=finding_id)
    if finding.state != PhiFindingState.OPEN:
        raise ValidationError(
            {"__all__": f"This finding was already {finding.get_state_display().lower()} by {finding.decided_by}."}
        )
    return finding


def _decided(finding: PhiFinding, *, state: str, curator: User, reason: str) -> None:
    finding.state, finding.reason, finding.decided_by, finding.decided_at = state, reason, curator, timezone.now()
    finding.save(update_fields=["state", "reason", "decided_by", "decided_at"])


def _described(finding: PhiFinding) -> dict[str, Any]:
    """What the audit trail keeps about a finding: where and what kind, never the characters found."""
    owner = finding.owner
    return {
        "owner": f"{owner._meta.model_name} {owner.pk}",
        "field": finding.field,
        "revision": finding.revision,
        "kind": finding.kind,
        "span": [finding.start, finding.end],
    }


@transaction.atomic
def phi_finding_clear(*, finding_id: int, curator: User, reason: str) -> PhiFinding:
    """A curator says the span is not PHI, and why; the last open finding of an item lifts its PHI flag."""
    require_curator(user=curator, doing="decide on PHI findings")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why this is not protected health information."})
    if len(reason) > REASON_LIMIT:
        raise ValidationError({"reason": f"Keep it to {REASON_LIMIT} characters (this one has {len(reason)})."})
    finding = _locked_open(finding_id)
    _decided(finding, state=PhiFindingState.CLEARED, curator=curator, reason=reason)
    audit_record(
        action=AuditAction.PHI_CLEARED, target=finding, actor=curator, after={**_described(finding), "reason": reason}
    )
    phi_flag_sync(
        project_id=finding.project_id,
        item_task_id=finding.item_task_id,
        item_response_id=finding.item_response_id,
        actor=curator,
    )
    return finding


@transaction.atomic
def phi_finding_redact(*, finding_id: int, curator: User) -> PhiFinding:
    """Replace the span with its kind in brackets ("[DATE]") as a new revision of the text, and rescan it.

    A seed task gets a new version through the edit service, with the redaction as its rationale; a
    review a new version that supersedes it; a prompt or model response (which have no revisions) is
    changed in place, and the finding and the audit trail keep where and what was replaced.
    """
    require_curator(user=curator, doing="decide on PHI findings")
    finding = _locked_open(finding_id)
    owner = type(finding.owner).objects.select_for_update().get(pk=finding.owner.pk)
    text = phi_field_text(owner, finding.field)
    if revision_of(owner) != finding.revision or span_hash(text[finding.start : finding.end]) != finding.span_hash:
        phi_item_scan(owner=owner)
        raise ValidationError({"__all__": "The text changed since this was found; it has been scanned again."})
    span = Finding(PhiKind(finding.kind), finding.start, finding.end, finding.score, finding.recognizer)
    redacted = phi_redact(text, [span])
    _decided(finding, state=PhiFindingState.REDACTED, curator=curator, reason="")
    revision = _write_redaction(owner=owner, field=finding.field, text=redacted, curator=curator, kind=finding.kind)
    audit_record(
        action=AuditAction.PHI_REDACTED,
        target=finding,
        actor=curator,
        after={**_described(finding), "placeholder": f"[{finding.kind}]", "new_revision": revision},
    )
    phi_flag_sync(
        project_id=finding.project_id,
        item_task_id=finding.item_task_id,
        item_response_id=finding.item_response_id,
        actor=curator,
    )
    return finding


def _write_redaction(*, owner: Owner, field: str, text: str, curator: User, kind: str) -> int:
    """Write the redacted text as the owner's next revision and rescan it; returns the new revision."""
    if isinstance(owner, SeedTask):
        task = seed_task_edit(
            task_id=owner.pk,
            editor=curator,
            expected_version=owner.version,
            changes={field: text},
            rationale=f"Redacted {kind} (protected health information) in {field}",
            redaction=True,
        )
        if not PhiScan.objects.filter(seed_task=task, content_hash=task.content_hash).exists():
            phi_item_scan(owner=task)
        return task.version
    if isinstance(owner, Review):
        owner = _review_redacted(review=owner, field=field, text=text)
    else:
        setattr(owner, field, text)
        owner.save(update_fields=[field])
    phi_item_scan(owner=owner)
    return revision_of(owner)


def _review_redacted(*, review: Review, field: str, text: str) -> Review:
    """A review is never changed: the redacted one is its next version, by the same reviewer."""
    answers = dict(review.answers)
    if field.startswith("answers."):
        answers[field.removeprefix("answers.")] = text
    review.is_current = False
    review.save(update_fields=["is_current"])
    successor = Review(
        project_id=review.project_id,
        schema_id=review.schema_id,
        reviewer_id=review.reviewer_id,
        assignment_id=review.assignment_id,
        seed_task_id=review.seed_task_id,
        response_id=review.response_id,
        answers=answers,
        corrected_text=text if field == "corrected_text" else review.corrected_text,
        version=review.version + 1,
        supersedes=review,
        submitted_at=review.submitted_at,
    )
    successor.save()
    return successor
