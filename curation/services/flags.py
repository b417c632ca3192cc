"""Flags raised on items by reviewers, and cleared by curators."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit.services import AuditAction, audit_record, text_digest
from curation.models import ComputationKind, FlagKind, ItemFlag, ModelResponse, SeedTask
from curation.services.computations import computation_mark_changed

NOTE_LIMIT = 2_000


@transaction.atomic
def item_flag_raise(
    *,
    reviewer: User,
    kind: str,
    seed_task: SeedTask | None = None,
    response: ModelResponse | None = None,
    note: str = "",
) -> ItemFlag:
    """Flag an item. A reviewer's open flag of the same kind on the same item is reused, not repeated."""
    if kind not in FlagKind.values:
        raise ValidationError({"kind": f"must be one of {', '.join(FlagKind.values)} (got {kind!r})"})
    if (seed_task is None) == (response is None):
        raise ValidationError("A flag is for exactly one seed task or one model response.")
    note = note.strip()
    if len(note) > NOTE_LIMIT:
        raise ValidationError({"note": f"must be at most {NOTE_LIMIT} characters"})
    project_id = seed_task.project_id if seed_task else (response.seed_task or response.prompt).project_id
    existing = (
        ItemFlag.objects.select_for_update()
        .filter(seed_task=seed_task, response=response, kind=kind, raised_by=reviewer, cleared_at__isnull=True)
        .first()
    )
    if existing is not None:
        if note and note != existing.note:
            existing.note = note
            existing.save(update_fields=["note"])
        return existing
    flag = ItemFlag(
        project_id=project_id, seed_task=seed_task, response=response, kind=kind, note=note, raised_by=reviewer
    )
    flag.full_clean()
    flag.save()
    audit_record(
        action=AuditAction.FLAG_RAISED, target=flag, actor=reviewer, after={"kind": kind, "note": text_digest(note)}
    )
    return flag


@transaction.atomic
def item_flag_clear(*, flag: ItemFlag, curator: User, note: str) -> ItemFlag:
    """A curator has dealt with the flag; it leaves the attention list and keeps who cleared it and why."""
    note = note.strip()
    if not note:
        raise ValidationError({"clearance_note": "Say briefly what was done about this flag."})
    flag = ItemFlag.objects.select_for_update().get(pk=flag.pk)
    if flag.cleared_at is not None:
        return flag
    flag.cleared_by = curator
    flag.cleared_at = timezone.now()
    flag.clearance_note = note[:NOTE_LIMIT]
    flag.save(update_fields=["cleared_by", "cleared_at", "clearance_note"])
    # A cleared safety flag may take an item out of the disagreement queue: the last search is stale.
    computation_mark_changed(project_id=flag.project_id, kind=ComputationKind.DISAGREEMENTS)
    audit_record(
        action=AuditAction.FLAG_CLEARED, target=flag, actor=curator, after={"clearance_note": flag.clearance_note}
    )
    return flag
