"""Request body parsers that refuse a body too large or too deep before building anything from it.

DRF's own parsers read the whole body whatever its size (Django's DATA_UPLOAD_MAX_MEMORY_SIZE
guards `request.body` and `request.POST`, which DRF does not use), and its JSON parser recurses
once per nesting level: a body 2,000 levels deep is a RecursionError, answered with a 500. These
parsers check the size and the nesting depth (CONCORD_IMPORT_MAX_DEPTH, the limit imports use,
found by a bracket scan) before `json.loads`, and answer 400 with what was wrong. DRF reads
`request.body` for them, so Django's size limit applies first; `body_refused` turns its refusal
into the same 400 (the API's exception handler calls it).
"""

import json
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import QueryDict
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils.json import strict_constant

from curation.formats.base import max_depth
from curation.formats.streams import nesting_column


def max_body_bytes() -> int | None:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return None if limit is None else int(limit)


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
    except ValueError:
        return 0


def _read_bounded(stream, parser_context: dict[str, Any] | None) -> bytes:
    """The body, refused unread when its Content-Length is over the limit and cut off at the limit otherwise.

    DRF hands these parsers `request.body`, which Django already limits; reading the stream bounded
    keeps the limit should a body ever arrive another way.
    """
    limit = max_body_bytes()
    if stream is None:
        return b""
    if limit is None:
        return stream.read()
    length = _declared_length((parser_context or {}).get("request"))
    if length > limit:
        raise _too_large(length, limit)
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise _too_large(len(body), limit)
    return body


def _too_large(size: int, limit: int) -> ParseError:
    return ParseError(
        f"The request body is {size:,} bytes; the limit is {limit:,} bytes (setting DATA_UPLOAD_MAX_MEMORY_SIZE)."
    )


def body_refused(exc: RequestDataTooBig | TooManyFieldsSent, request) -> ParseError:
    """Django's own refusal of a request body, raised when DRF reads `request.body`, as the API's 400."""
    if isinstance(exc, TooManyFieldsSent):
        return ParseError(f"The form has too many fields (setting DATA_UPLOAD_MAX_NUMBER_FIELDS, {exc}).")
    return _too_large(_declared_length(request), max_body_bytes() or 0)


def _decoded(body: bytes, parser_context: dict[str, Any] | None) -> str:
    encoding = parsers.get_encoding(parser_context or {})  # refuses a charset that is not a text encoding
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ParseError(f"The body is not valid {encoding} at byte {exc.start + 1}; send it as UTF-8.") from None


class BoundedJSONParser(parsers.JSONParser):
    """DRF's JSON parser, with the body size and its nesting depth checked before it is parsed."""

    def parse(self, stream, media_type=None, parser_context=None):
        text = _decoded(_read_bounded(stream, parser_context), parser_context)
        limit = max_depth()
        column = nesting_column(text, limit)
        if column is not None:
            raise ParseError(
                f"JSON parse error - nested more than {limit} levels deep at character {column} "
                "(setting CONCORD_IMPORT_MAX_DEPTH)."
            )
        try:
            return json.loads(text, parse_constant=strict_constant if self.strict else None)
        except RecursionError:  # only with a depth limit set beyond what the parser can follow
            raise ParseError(f"JSON parse error - nested too deeply to read (limit {limit}).") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None


class BoundedFormParser(parsers.FormParser):
    """DRF's form parser, with the body size checked before the fields are parsed."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = _read_bounded(stream, parser_context)
        try:
            return QueryDict(body, encoding=parsers.get_encoding(parser_context or {}))
        except TooManyFieldsSent as exc:
            raise body_refused(exc, (parser_context or {}).get("request")) from None


# Endpoints whose body nests objects or lists of objects read JSON only: a form or multipart body
# cannot carry `{"filters": {...}}`, and DRF would drop the nested part without a word (a release
# built over the default data). With only this parser such a body is a 415, and the schema lists
# only application/json for them.
JSON_ONLY = [BoundedJSONParser]
