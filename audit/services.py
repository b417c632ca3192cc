"""Writes of the audit trail: record an event on the chain, and prune it past the retention period."""

import hashlib
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from .chain import canonical_json, event_hash, summary_signature
from .context import client_address, current_request
from .models import AuditAction, AuditChainHead, AuditEvent

CHAIN_HEAD_PK = 1
# The PostgreSQL trigger (migration 0002) lets a DELETE through only while this is on in the transaction.
PRUNE_SETTING = "concord.audit_prune"


def text_digest(text: str) -> dict[str, Any]:
    """How the trail names a text from or about a patient: it is kept for years and cannot be changed, so it
    holds the text's SHA-256 and length (enough to prove what was there) and never the text, which stays in
    the tables where a redaction can reach it."""
    return {"sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(), "length": len(text)}


def texts_digested(values: dict[str, Any] | None, keys: Iterable[str]) -> dict[str, Any] | None:
    """`values` with the strings under `keys` replaced by their text_digest (other values as they are)."""
    if values is None:
        return None
    keys = set(keys)
    return {k: text_digest(v) if k in keys and isinstance(v, str) else v for k, v in values.items()}


def _locked_head() -> AuditChainHead:
    """The chain head, locked until the transaction ends; every writer queues here (SQLite: on the write lock)."""
    head = AuditChainHead.objects.select_for_update().filter(pk=CHAIN_HEAD_PK).first()
    if head is None:  # migration 0001 creates the row; a test database emptied by a transactional test has lost it
        AuditChainHead.objects.get_or_create(pk=CHAIN_HEAD_PK)
        head = AuditChainHead.objects.select_for_update().get(pk=CHAIN_HEAD_PK)
    return head


def _request_actor(request) -> Any:
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _append(*, head: AuditChainHead, event: AuditEvent) -> AuditEvent:
    """Put `event` after the head and move the head. Call holding the head's lock (_locked_head)."""
    event.id = head.last_event_id + 1
    event.prev_hash = head.last_hash
    event.created_at = timezone.now()
    event.hash = event_hash(event)
    event.save(force_insert=True)
    head.last_event_id, head.last_hash = event.id, event.hash
    head.save(update_fields=["last_event_id", "last_hash"])
    return event


def audit_record(
    *,
    action: str,
    target: models.Model | None = None,
    actor: Any = None,
    project_id: int | None = None,
    before: Any = None,
    after: Any = None,
    object_type: str = "",
    object_id: str = "",
) -> AuditEvent:
    """Append one event. Call inside the transaction of the action it records, so both commit or neither does.

    `target` names the object (its app label, model and pk; its project_id when it has one). The actor and the
    client address default to the current request's; pass `actor` where the service knows better (a command).
    """
    if action not in AuditAction.values:
        raise ValueError(f"{action!r} is not an audit action; add it to audit.models.AuditAction.")
    request = current_request()
    actor = actor if actor is not None else _request_actor(request)
    if target is not None:
        object_type, object_id = target._meta.label_lower, str(target.pk)
        project_id = project_id if project_id is not None else getattr(target, "project_id", None)
    event = AuditEvent(
        actor=actor,
        actor_label=getattr(actor, "email", "") or "",
        client_address=client_address(request),
        action=action,
        object_type=object_type,
        object_id=object_id,
        project_id=project_id,
        before="" if before is None else canonical_json(before),
        after="" if after is None else canonical_json(after),
    )
    # No savepoint of its own: the event commits or rolls back with the action it records, and a savepoint's
    # release would be one more round trip while holding the chain head, which every writer queues on.
    with transaction.atomic(savepoint=False):
        return _append(head=_locked_head(), event=event)


def audit_retention_cutoff() -> Any:
    return timezone.now() - timedelta(days=settings.CONCORD_AUDIT_RETENTION_DAYS)


@transaction.atomic
def audit_prune(*, actor: Any = None, before: Any = None) -> AuditEvent | None:
    """Delete the events older than the retention period (or than `before`) and append a summary of them.

    The summary names the first and last events pruned with their hashes, counts them by action and is signed
    with an HMAC under SECRET_KEY: audit_chain_verify starts the chain at the oldest event left, whose
    predecessor the summary vouches for. Returns the summary, or None when nothing was old enough.
    """
    head = _locked_head()
    cutoff = before or audit_retention_cutoff()
    # Ids follow time (both are taken under the head's lock): prune a prefix, so what remains is one chain.
    last = AuditEvent.objects.filter(created_at__lt=cutoff).order_by("-id").first()
    if last is None:
        return None
    pruned = AuditEvent.objects.filter(id__lte=last.id)
    first = pruned.order_by("id").first()
    counts = Counter(dict(pruned.order_by().values("action").annotate(n=models.Count("id")).values_list("action", "n")))
    summary = {
        "cutoff": cutoff.isoformat(),
        "count": sum(counts.values()),
        "counts_by_action": dict(sorted(counts.items())),
        "first_pruned_id": first.id,
        "first_pruned_hash": first.hash,
        "first_pruned_prev_hash": first.prev_hash,
        "last_pruned_id": last.id,
        "last_pruned_hash": last.hash,
    }
    summary["signature"] = summary_signature(summary, key=settings.SECRET_KEY)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'on', true)", [PRUNE_SETTING])
    pruned.delete()
    event = AuditEvent(actor=actor, actor_label=getattr(actor, "email", "") or "", action=AuditAction.AUDIT_PRUNED)
    event.after = canonical_json(summary)
    return _append(head=head, event=event)
