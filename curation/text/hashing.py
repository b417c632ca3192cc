import hashlib
import json


def content_hash(*parts: str) -> str:
    """A stable fingerprint of an item's text, used to recognise the same record arriving twice."""
    payload = json.dumps([part.strip() for part in parts], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
