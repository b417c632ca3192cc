"""How an event is serialised and hashed. Pure functions: the writer and the verifier use the same ones."""

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 as is; dates, decimals and the like as their str()."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def timestamp_text(moment: datetime) -> str:
    """Microseconds in UTC with a Z, so a timestamp read back from either database hashes the same."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_content(event) -> dict[str, Any]:
    """The fields an event's hash covers: everything but the hash itself."""
    return {
        "id": event.id,
        "created_at": timestamp_text(event.created_at),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "client_address": event.client_address,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "project_id": event.project_id,
        "before": event.before,
        "after": event.after,
        "prev_hash": event.prev_hash,
    }


def event_hash(event) -> str:
    """SHA-256 of the previous event's hash and this event's canonical content."""
    return hashlib.sha256((event.prev_hash + canonical_json(event_content(event))).encode()).hexdigest()


def summary_signature(summary: dict[str, Any], *, key: str) -> str:
    """HMAC-SHA256 of a prune summary (without its signature) under the deployment's secret key."""
    unsigned = {name: value for name, value in summary.items() if name != "signature"}
    return hmac.new(key.encode(), canonical_json(unsigned).encode(), hashlib.sha256).hexdigest()
