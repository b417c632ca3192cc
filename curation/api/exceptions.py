"""The API's one exception handler: a service's refusal is a 400 with its messages by field, in DRF's shape.

Services raise Django's ValidationError (the pages show the same messages), so API views call them
without a try block and this handler answers for all of them, as DRF does for its own errors:
`{"field": ["message"], "non_field_errors": ["message"]}`. A ValidationError that names the input
field its keys live in (`input_field`, as the answers of a review keyed by question) is reported
under that field, the shape DRF gives the errors of a nested serializer. Http404 and
PermissionDenied are left to DRF, which answers 404 and 403.
"""

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from curation.api.parsers import body_refused


def validation_error_detail(exc: DjangoValidationError) -> dict[str, Any]:
    """The messages of a Django ValidationError keyed as DRF keys a serializer's errors."""
    non_field = api_settings.NON_FIELD_ERRORS_KEY
    if hasattr(exc, "error_dict"):
        detail: dict[str, Any] = {
            (non_field if field == NON_FIELD_ERRORS else field): messages
            for field, messages in exc.message_dict.items()
        }
    else:
        detail = {non_field: exc.messages}
    input_field = getattr(exc, "input_field", None)
    if input_field:
        nested = detail.pop(non_field) if set(detail) == {non_field} else detail
        return {input_field: nested}
    return detail


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(validation_error_detail(exc))
    elif isinstance(exc, RequestDataTooBig | TooManyFieldsSent):  # Django refusing the body DRF reads
        exc = body_refused(exc, context.get("request"))
    return exception_handler(exc, context)
