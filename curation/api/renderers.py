"""Answering JSON the database already holds as text, without decoding and encoding it again.

A worker's result (an agreement report of 300 reviewers is 1.6 MB) is stored as JSON; an endpoint that
answers it whole reads it as text (curation.selectors.computations.computation_of's `result_as_text`) and
hands it to the renderer as StoredJSON, with the few keys the request adds.
"""

import json
from typing import Any

from rest_framework.renderers import JSONRenderer


class StoredJSON:
    """A JSON object as stored (`text`), to be answered with the keys of `extra` added; `text` has none
    of them."""

    def __init__(self, text: str, **extra: Any):
        self.text, self.extra = text, extra

    def encoded(self) -> bytes:
        members = self.text.strip()
        if not (members.startswith("{") and members.endswith("}")):
            raise ValueError("stored JSON is not an object")
        members = members[1:-1].strip()
        added = json.dumps(self.extra, allow_nan=False)[1:-1]
        body = "{" + ", ".join(part for part in (members, added) if part) + "}"
        # As DRF's JSONRenderer: JSON that is also a strict subset of JavaScript.
        return body.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()

    def decoded(self) -> dict[str, Any]:
        return {**json.loads(self.text), **self.extra}


class StoredJSONRenderer(JSONRenderer):
    """DRF's JSON renderer, which answers a StoredJSON as stored (the same keys and values a client
    decodes from DRF's own encoding); pretty printing (`; indent=`, the browsable API) re-encodes it."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, StoredJSON):
            if self.get_indent(accepted_media_type, renderer_context or {}) is None:
                return data.encoded()
            data = data.decoded()
        return super().render(data, accepted_media_type, renderer_context)
