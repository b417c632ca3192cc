"""Reads of the audit trail: the chain head, filtered pages of events, and the walk that verifies the chain."""

import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from curation.models import Project

from .chain import event_hash, summary_signature
from .models import GENESIS_HASH, AuditAction, AuditChainHead, AuditEvent


def audit_chain_head() -> dict[str, Any]:
    """The newest event's id and hash: what a release manifest records, so a later check can tell that the
    trail as it stood then is still intact (id 0 and the genesis hash while nothing is recorded)."""
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None:
        return {"id": 0, "hash": GENESIS_HASH}
    return {"id": head.last_event_id, "hash": head.last_hash}


def audit_events(
    *,
    actor_id: int | None = None,
    project_id: int | None = None,
    action: str = "",
    since: date | None = None,
    until: date | None = None,
    before_id: int | None = None,
) -> QuerySet[AuditEvent]:
    """Events newest first, filtered. `before_id` is the keyset cursor: the events older than that one.
    `until` includes its whole day."""
    events = AuditEvent.objects.order_by("-id")
    if actor_id is not None:
        events = events.filter(actor_id=actor_id)
    if project_id is not None:
        events = events.filter(project_id=project_id)
    if action:
        events = events.filter(action=action)
    if since is not None:
        events = events.filter(created_at__date__gte=since)
    if until is not None:
        events = events.filter(created_at__date__lte=until)
    if before_id is not None:
        events = events.filter(id__lt=before_id)
    return events


def audit_project_names(*, project_ids: set[int]) -> dict[int, str]:
    """The names of the projects the events name, in one query; a deleted project's id has none."""
    return dict(Project.objects.filter(pk__in=project_ids).values_list("pk", "name"))


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str

    def __str__(self) -> str:
        return f"event {self.event_id}: {self.reason}"


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_id: int | None
    last_id: int | None
    broken: ChainBreak | None


def _signed_summary_for(oldest: AuditEvent) -> dict[str, Any] | None:
    """The prune summary that vouches for the oldest event's missing predecessor, if one does and its
    signature holds under SECRET_KEY."""
    summaries = AuditEvent.objects.filter(action=AuditAction.AUDIT_PRUNED).order_by("-id")
    for text in summaries.values_list("after", flat=True):
        summary = json.loads(text)
        if summary.get("last_pruned_id") != oldest.id - 1 or summary.get("last_pruned_hash") != oldest.prev_hash:
            continue
        expected = summary_signature(summary, key=settings.SECRET_KEY)
        if hmac.compare_digest(expected, str(summary.get("signature", ""))):
            return summary
    return None


def _start_problem(oldest: AuditEvent) -> str | None:
    """Why the chain cannot start at `oldest`, or None when it can: at the genesis, or after a signed prune."""
    if oldest.prev_hash == GENESIS_HASH and oldest.id == 1:
        return None
    if _signed_summary_for(oldest) is not None:
        return None
    return f"its predecessor {oldest.id - 1} is missing and no signed prune summary accounts for it"


def _links(events: Iterator[AuditEvent]) -> Iterator[ChainBreak | AuditEvent]:
    previous: AuditEvent | None = None
    for event in events:
        if previous is not None and event.id != previous.id + 1:
            yield ChainBreak(event.id, f"events {previous.id + 1} to {event.id - 1} are missing")
            return
        if previous is not None and event.prev_hash != previous.hash:
            yield ChainBreak(event.id, f"its previous hash does not match event {previous.id}'s hash")
            return
        if event_hash(event) != event.hash:
            yield ChainBreak(event.id, "its content does not match its hash (it was changed after it was written)")
            return
        previous = event
        yield event


def audit_chain_verify(*, chunk_size: int = 2000) -> ChainReport:
    """Walk the chain oldest first and report the first broken link: a changed event, a missing one, or a
    head that does not name the newest event (events removed from the end)."""
    events = AuditEvent.objects.order_by("id")
    oldest = events.first()
    head = audit_chain_head()
    if oldest is None:
        broken = ChainBreak(head["id"], "the chain head names an event that is missing") if head["id"] else None
        return ChainReport(checked=0, first_id=None, last_id=None, broken=broken)
    problem = _start_problem(oldest)
    if problem is not None:
        return ChainReport(checked=0, first_id=oldest.id, last_id=None, broken=ChainBreak(oldest.id, problem))
    checked, last = 0, None
    for link in _links(events.iterator(chunk_size=chunk_size)):
        if isinstance(link, ChainBreak):
            return ChainReport(checked=checked, first_id=oldest.id, last_id=last and last.id, broken=link)
        checked, last = checked + 1, link
    if last is not None and (head["id"], head["hash"]) != (last.id, last.hash):
        reason = (
            f"the chain head holds another hash for event {last.id}"
            if head["id"] == last.id
            else f"the chain head names event {head['id']}, but the newest is {last.id}"
        )
        broken = ChainBreak(last.id, reason)
        return ChainReport(checked=checked, first_id=oldest.id, last_id=last.id, broken=broken)
    return ChainReport(checked=checked, first_id=oldest.id, last_id=last and last.id, broken=None)


def audit_event_json(event: AuditEvent) -> dict[str, Any]:
    """An event as the export writes it: its fields, `before` and `after` as JSON values, and its hashes."""
    return {
        "id": event.id,
        "created_at": event.created_at.isoformat(),
        "actor_id": event.actor_id,
        "actor": event.actor_label,
        "client_address": event.client_address,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "project_id": event.project_id,
        "before": json.loads(event.before) if event.before else None,
        "after": json.loads(event.after) if event.after else None,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def audit_export_lines(*, chunk_size: int = 2000, **filters: Any) -> Iterator[str]:
    """The filtered events oldest first, one JSON line each, read in chunks (an export may hold millions)."""
    for event in audit_events(**filters).order_by("id").iterator(chunk_size=chunk_size):
        yield json.dumps(audit_event_json(event), ensure_ascii=False) + "\n"
