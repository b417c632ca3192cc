"""Writes of PHI scanning: scan a text's owner, record its findings and keep its PHI flag in step, on
every save of a text and in background runs over the texts an import brought or a project's unscanned
texts. A curator's decisions on the findings are in curation.services.phi_findings.

An owner is a seed task, a test prompt, a model response or a review (curation.models.phi). Scanning
an owner replaces its open findings with those of its current text; a span a curator cleared as not
PHI is not raised again while the same characters stand in the same field.
"""

import hashlib
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from accounts.models import User
from audit.services import AuditAction, audit_record
from curation.models import FlagKind, ItemFlag, ModelResponse, Prompt, Review, SeedTask
from curation.models.phi import PhiFinding, PhiFindingState, PhiScan, PhiScanRun, PhiScanRunStatus
from curation.phi import SCANNER_VERSION, Finding, phi_scan
from curation.selectors.phi import phi_owner_texts, phi_scan_run_querysets

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


def revision_of(owner: Owner) -> int:
    return owner.version if isinstance(owner, SeedTask | Review) else 1


# No savepoint: this runs inside every save of a clinician's text, and an error here fails that save anyway.
@transaction.atomic(savepoint=False)
def phi_item_scan(*, owner: Owner, new: bool = False) -> list[PhiFinding]:
    """Scan `owner`'s texts as they are now and record what was found; returns the new open findings.

    Call after saving the owner, inside the transaction that saved it, so the scan state and the flag
    commit with the text. Open findings of an earlier revision are replaced (their spans no longer
    point into the text); cleared and redacted ones stay as the record of what was decided.

    `new`: the owner's row was created in this transaction (every review is: a new version is a new
    row), so it has no findings and no scan yet, and when nothing is found in it and nothing it
    supersedes is dropped, its item's PHI flag cannot change. A submit then records its scan in one
    statement instead of six.
    """
    field = _owner_field(owner)
    owned = PhiFinding.objects.filter(**{field: owner})
    dropped = 0
    if not new:
        dropped += owned.filter(state=PhiFindingState.OPEN).delete()[0]
    if isinstance(owner, Review) and owner.supersedes_id:
        # The superseded review is out of every release; its open findings no longer hold the item back.
        dropped += PhiFinding.objects.filter(review_id=owner.supersedes_id, state=PhiFindingState.OPEN).delete()[0]
    decided = set()
    if not new:
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
    if new or not PhiScan.objects.filter(**{field: owner}).update(**scan):
        PhiScan.objects.create(**{field: owner}, **scan)
    if found or dropped or not new:
        phi_flag_sync(project_id=project_id, has_open=True if found else None, **item)
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
        revision=revision_of(owner),
        kind=finding.kind.value,
        start=finding.start,
        end=finding.end,
        span_hash=digest,
        score=finding.score,
        recognizer=finding.recognizer[:100],
        scanner_version=SCANNER_VERSION,
    )


def phi_flag_sync(
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
    the item; otherwise the item's findings (of every text it has) are looked up. A curator's decision
    (curation.services.phi_findings) calls it with the curator as `actor`, who lifts the flag.
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


def phi_scan_now(*, project_id: int) -> PhiScanRun:
    """Scan the project's unscanned texts in this process, as a worker runs a queued run (the command
    line, where no worker may be running)."""
    run = PhiScanRun.objects.create(project_id=project_id)
    return phi_scan_run_execute(run_id=run.pk)


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
    """phi_flag_sync for the items of a chunk's owners, called only for those whose flag must change: two
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
                phi_flag_sync(project_id=project_of[item_id], **{key: item_id}, has_open=item_id in with_open)


def _chunks(queryset: QuerySet) -> Any:
    last = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last).order_by("pk")[:SCAN_CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].pk
