"""Writes of PHI scanning: scan a text's owner, record its findings, keep its PHI flag in step, and a
curator's decision on each finding (not PHI, or redacted into a new revision).

An owner is a seed task, a test prompt, a model response or a review (curation.models.phi). Scanning
an owner replaces its open findings with those of its current text; a span a curator cleared as not
PHI is not raised again while the same characters stand in the same field.
"""

import hashlib
from functools import partial
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from accounts.models import User
from audit.services import AuditAction, audit_record
from curation.models import FlagKind, ItemFlag, ModelResponse, Prompt, Review, SeedTask
from curation.models.phi import PhiFinding, PhiFindingState, PhiScan, PhiScanRun, PhiScanRunStatus
from curation.phi import SCANNER_VERSION, Finding, PhiKind, phi_redact, phi_scan
from curation.selectors.phi import phi_field_text, phi_owner_texts, phi_scan_run_querysets

REASON_LIMIT = 2_000
SCAN_CHUNK = 200
FLAG_NOTE = "The PHI scanner found protected health information; a curator clears or redacts it on the PHI page."
FLAG_LIFTED_NOTE = "Every PHI finding on this item was cleared as not PHI or redacted."
_OWNER_FIELDS = {SeedTask: "seed_task", Prompt: "prompt", ModelResponse: "response", Review: "review"}

Owner = SeedTask | Prompt | ModelResponse | Review


def span_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _owner_field(owner: Model) -> str:
    try:
        return _OWNER_FIELDS[type(owner)]
    except KeyError:
        raise TypeError(f"{type(owner).__name__} has no texts the PHI scanner reads") from None


def _item_of(owner: Owner) -> dict[str, Any]:
    """The released item a finding in `owner` keeps out of releases and flags (none for a prompt: the
    release gate reaches a prompt's findings through its responses)."""
    if isinstance(owner, SeedTask):
        return {"item_task_id": owner.pk}
    if isinstance(owner, ModelResponse):
        return {"item_response_id": owner.pk}
    if isinstance(owner, Review):
        return {"item_task_id": owner.seed_task_id, "item_response_id": owner.response_id}
    return {}


def _project_id_of(owner: Owner) -> int:
    if isinstance(owner, ModelResponse):
        return (owner.seed_task or owner.prompt).project_id
    return owner.project_id


def _revision_of(owner: Owner) -> int:
    return owner.version if isinstance(owner, SeedTask | Review) else 1


# No savepoint: this runs inside every save of a clinician's text, and an error here fails that save anyway.
@transaction.atomic(savepoint=False)
def phi_item_scan(*, owner: Owner) -> list[PhiFinding]:
    """Scan `owner`'s texts as they are now and record what was found; returns the new open findings.

    Call after saving the owner, inside the transaction that saved it, so the scan state and the flag
    commit with the text. Open findings of an earlier revision are replaced (their spans no longer
    point into the text); cleared and redacted ones stay as the record of what was decided.
    """
    field = _owner_field(owner)
    owned = PhiFinding.objects.filter(**{field: owner})
    owned.filter(state=PhiFindingState.OPEN).delete()
    if isinstance(owner, Review) and owner.supersedes_id:
        # The superseded review is out of every release; its open findings no longer hold the item back.
        PhiFinding.objects.filter(review_id=owner.supersedes_id, state=PhiFindingState.OPEN).delete()
    decided = set(owned.filter(state=PhiFindingState.CLEARED).values_list("field", "kind", "span_hash"))
    project_id, item = _project_id_of(owner), _item_of(owner)
    found = [
        _new_finding(owner, field, name, finding, digest)
        for name, finding, digest in _texts_scanned(owner)
        if (name, finding.kind.value, digest) not in decided
    ]
    PhiFinding.objects.bulk_create(found)
    scan = {
        "project_id": project_id,
        "content_hash": getattr(owner, "content_hash", ""),
        "scanner_version": SCANNER_VERSION,
        "scanned_at": timezone.now(),
    }
    # One statement when the owner was scanned before (every save after its first), where update_or_create
    # takes four (savepoint, select, update, release): this runs on a clinician's every save.
    if not PhiScan.objects.filter(**{field: owner}).update(**scan):
        PhiScan.objects.create(**{field: owner}, **scan)
    _flag_sync(project_id=project_id, has_open=True if found else None, **item)
    return found


def _texts_scanned(owner: Owner) -> list[tuple[str, Finding, str]]:
    """What the scanner finds in the owner's texts as they are now: (field, finding, span hash). No database."""
    return [
        (name, finding, span_hash(text[finding.start : finding.end]))
        for name, text in phi_owner_texts(owner)
        for finding in phi_scan(text)
    ]


def _new_finding(owner: Owner, field: str, name: str, finding: Finding, digest: str) -> PhiFinding:
    return PhiFinding(
        project_id=_project_id_of(owner),
        **{field: owner},
        **_item_of(owner),
        field=name,
        revision=_revision_of(owner),
        kind=finding.kind.value,
        start=finding.start,
        end=finding.end,
        span_hash=digest,
        score=finding.score,
        recognizer=finding.recognizer[:100],
        scanner_version=SCANNER_VERSION,
    )


def _flag_sync(
    *,
    project_id: int,
    item_task_id: int | None = None,
    item_response_id: int | None = None,
    actor: User | None = None,
    has_open: bool | None = None,
) -> None:
    """Raise the scanner's PHI flag on an item with open findings; lift it when none is left.

    The scanner's flag is the one with no `raised_by`; a reviewer's PHI flag is theirs and a curator
    clears it on the attention list. `has_open` is True when the caller has just recorded open findings on
    the item; otherwise the item's findings (of every text it has) are looked up.
    """
    if item_task_id is None and item_response_id is None:
        return
    item = {"seed_task_id": item_task_id} if item_task_id else {"response_id": item_response_id}
    on_item = {"item_task_id": item_task_id} if item_task_id else {"item_response_id": item_response_id}
    if has_open is None:
        has_open = PhiFinding.objects.filter(**on_item, state=PhiFindingState.OPEN).exists()
    flags = ItemFlag.objects.select_for_update().filter(
        **item, kind=FlagKind.PHI, raised_by__isnull=True, cleared_at__isnull=True
    )
    flag = flags.first()
    if has_open and flag is None:
        flag = ItemFlag(project_id=project_id, **item, kind=FlagKind.PHI, note=FLAG_NOTE, raised_by=None)
        flag.full_clean()
        flag.save()
        audit_record(action=AuditAction.FLAG_RAISED, target=flag, after={"kind": FlagKind.PHI, "by": "PHI scanner"})
    elif not has_open and flag is not None:
        flag.cleared_by, flag.cleared_at, flag.clearance_note = actor, timezone.now(), FLAG_LIFTED_NOTE
        flag.save(update_fields=["cleared_by", "cleared_at", "clearance_note"])
        audit_record(
            action=AuditAction.FLAG_CLEARED, target=flag, actor=actor, after={"clearance_note": FLAG_LIFTED_NOTE}
        )


# --- Background scans: the texts an import brought, or a project's unscanned texts ---


def phi_scan_run_queue(*, project_id: int, import_job_id: int | None = None) -> PhiScanRun:
    """Record a scan run and hand it to a worker once the run is committed."""
    from curation.jobs import phi_scan_task  # jobs import services lazily; this is the other direction

    with transaction.atomic():
        run = PhiScanRun.objects.create(project_id=project_id, import_job_id=import_job_id)
        transaction.on_commit(partial(phi_scan_task.delay, run.pk))
    return run


def phi_scan_after_import(*, import_job_id: int) -> PhiScanRun:
    """Queue the scan of every text a successful import wrote (called once the import commits)."""
    from curation.models import ImportJob

    job = ImportJob.objects.only("project_id").get(pk=import_job_id)
    return phi_scan_run_queue(project_id=job.project_id, import_job_id=job.pk)


def _run_update(run_id: int, **fields: Any) -> None:
    PhiScanRun.objects.filter(pk=run_id).update(**fields)


def phi_scan_run_execute(*, run_id: int) -> PhiScanRun:
    """Scan the run's texts in chunks of SCAN_CHUNK owners, keyset over ids, one short transaction per
    chunk (_chunk_scan), counting progress as it goes; only one chunk of rows is held at a time. A run
    already started or finished is left as it is (a redelivered message is harmless)."""
    with transaction.atomic():
        run = PhiScanRun.objects.select_for_update().get(pk=run_id)
        if run.status != PhiScanRunStatus.QUEUED:
            return run
        querysets = phi_scan_run_querysets(run=run)
        run.texts_total = sum(qs.count() for qs in querysets)
        run.status, run.started_at = PhiScanRunStatus.RUNNING, timezone.now()
        run.save(update_fields=["texts_total", "status", "started_at"])
    scanned = findings = 0
    try:
        for queryset in querysets:
            for chunk in _chunks(queryset):
                findings += _chunk_scan(chunk)
                scanned += len(chunk)
                _run_update(run_id, texts_scanned=scanned, findings=findings)
    except Exception as exc:
        _run_update(run_id, status=PhiScanRunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    _run_update(run_id, status=PhiScanRunStatus.DONE, finished_at=timezone.now())
    return PhiScanRun.objects.get(pk=run_id)


def _chunk_scan(chunk: list[Owner]) -> int:
    """Scan a chunk of owners of one kind as phi_item_scan scans one; returns the open findings recorded.

    The scanner, nearly all of the time, runs before the transaction, which then only records what it
    found, a few statements for the whole chunk: on SQLite that transaction holds the one write lock,
    and every reviewer's save waits while it is open. An owner whose text changed in between is left
    alone: the save that changed it scanned it.
    """
    found = [(owner, _texts_scanned(owner)) for owner in chunk]
    field = _owner_field(chunk[0])
    with transaction.atomic():
        unchanged = _unchanged(chunk)
        found = [(owner, spans) for owner, spans in found if owner.pk in unchanged]
        if not found:
            return 0
        owned = PhiFinding.objects.filter(**{f"{field}_id__in": [owner.pk for owner, _ in found]})
        owned.filter(state=PhiFindingState.OPEN).delete()
        superseded = [owner.supersedes_id for owner, _ in found if isinstance(owner, Review) and owner.supersedes_id]
        if superseded:  # as in phi_item_scan: a superseded review's open findings no longer hold its item back
            PhiFinding.objects.filter(review_id__in=superseded, state=PhiFindingState.OPEN).delete()
        decided = set(
            owned.filter(state=PhiFindingState.CLEARED).values_list(f"{field}_id", "field", "kind", "span_hash")
        )
        findings = [
            _new_finding(owner, field, name, finding, digest)
            for owner, spans in found
            for name, finding, digest in spans
            if (owner.pk, name, finding.kind.value, digest) not in decided
        ]
        PhiFinding.objects.bulk_create(findings)
        now = timezone.now()
        PhiScan.objects.bulk_create(
            [
                PhiScan(
                    **{field: owner},
                    project_id=_project_id_of(owner),
                    content_hash=getattr(owner, "content_hash", ""),
                    scanner_version=SCANNER_VERSION,
                    scanned_at=now,
                )
                for owner, _ in found
            ],
            update_conflicts=True,
            unique_fields=[field],
            update_fields=["project", "content_hash", "scanner_version", "scanned_at"],
        )
        _flags_sync([owner for owner, _ in found])
    return len(findings)


def _unchanged(chunk: list[Owner]) -> set[int]:
    """The ids of the chunk's owners still there with the text they had when read (reviews never change)."""
    model = type(chunk[0])
    rows = model._base_manager.filter(pk__in=[owner.pk for owner in chunk])
    if not any(f.name == "content_hash" for f in model._meta.concrete_fields):
        return set(rows.values_list("pk", flat=True))
    now = dict(rows.values_list("pk", "content_hash"))
    return {owner.pk for owner in chunk if now.get(owner.pk) == owner.content_hash}


def _flags_sync(owners: list[Owner]) -> None:
    """_flag_sync for the items of a chunk's owners, called only for those whose flag must change: two
    queries per kind of item find them."""
    for key, flag_key in (("item_task_id", "seed_task_id"), ("item_response_id", "response_id")):
        project_of = {}
        for owner in owners:
            if item_id := _item_of(owner).get(key):
                project_of[item_id] = _project_id_of(owner)
        if not project_of:
            continue
        with_open = set(
            PhiFinding.objects.filter(**{f"{key}__in": list(project_of)}, state=PhiFindingState.OPEN).values_list(
                key, flat=True
            )
        )
        flagged = set(
            ItemFlag.objects.filter(
                **{f"{flag_key}__in": list(project_of)},
                kind=FlagKind.PHI,
                raised_by__isnull=True,
                cleared_at__isnull=True,
            ).values_list(flag_key, flat=True)
        )
        for item_id in sorted(project_of):
            if (item_id in with_open) != (item_id in flagged):
                _flag_sync(project_id=project_of[item_id], **{key: item_id}, has_open=item_id in with_open)


def _chunks(queryset: QuerySet) -> Any:
    last = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last).order_by("pk")[:SCAN_CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].pk


# --- A curator's decisions ---


def _require_curator(user: User) -> None:
    if not (user.is_authenticated and user.is_curator):
        raise PermissionDenied("Only curators and admins decide on PHI findings.")


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
    _require_curator(curator)
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
    _flag_sync(
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
    _require_curator(curator)
    finding = _locked_open(finding_id)
    owner = type(finding.owner).objects.select_for_update().get(pk=finding.owner.pk)
    text = phi_field_text(owner, finding.field)
    if _revision_of(owner) != finding.revision or span_hash(text[finding.start : finding.end]) != finding.span_hash:
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
    _flag_sync(
        project_id=finding.project_id,
        item_task_id=finding.item_task_id,
        item_response_id=finding.item_response_id,
        actor=curator,
    )
    return finding


def _write_redaction(*, owner: Owner, field: str, text: str, curator: User, kind: str) -> int:
    """Write the redacted text as the owner's next revision and rescan it; returns the new revision."""
    if isinstance(owner, SeedTask):
        # seed_tasks imports this module for its save hook: a top-level import here would be a cycle.
        from curation.services.seed_tasks import seed_task_edit

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
    return _revision_of(owner)


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
