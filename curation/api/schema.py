"""The error answers every API endpoint can give, written into the OpenAPI schema in one place.

Views document what is theirs (a 409 for a release not ready, a 413 for an upload over the limit);
this hook adds the answers that come from the framework around them, so that no endpoint answers a
status its schema does not list:

- 401: no token, or a token refused (unknown, revoked, expired), for every endpoint that needs one;
- 403: the caller's role or membership does not allow it, or a read-only token tried a write;
- 404: a project, item or page cursor the caller cannot see, or an id in the path that is not one;
- 400: a body or query parameter refused, with the messages keyed by field (DRF's shape).

An error answer a view documents without a body gets the body it has: `{"detail": "..."}`, or the
errors by field for a 400.
"""

from typing import Any

ERROR = "Error"
FIELD_ERRORS = "FieldErrors"
JSON = "application/json"

COMPONENTS = {
    ERROR: {
        "type": "object",
        "properties": {"detail": {"type": "string", "description": "What was wrong, for a person to read"}},
        "required": ["detail"],
    },
    FIELD_ERRORS: {
        "type": "object",
        "description": (
            'Messages by input field: {"field": ["message"]}, nested as the input is (an object for an object,'
            ' a list for a list of objects); "non_field_errors" for the request as a whole; "detail" alone'
            " for a body that could not be read."
        ),
        "additionalProperties": {
            "anyOf": [{"type": "string"}, {"type": "array"}, {"type": "object", "additionalProperties": True}]
        },
    },
}

DESCRIPTIONS = {
    "400": "Refused: the messages by field",
    "401": "Not authenticated: no token, or a token that is unknown, revoked or expired",
    "403": "Not allowed: the caller's role or project membership, or a read-only token on a write",
    "404": "Not found, or not visible to the caller (an id in the path that is not a number included)",
}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error_response(code: str, description: str | None = None) -> dict[str, Any]:
    schema = _ref(FIELD_ERRORS if code == "400" else ERROR)
    return {"description": description or DESCRIPTIONS.get(code, ""), "content": {JSON: {"schema": schema}}}


def _statuses(path: str, operation: dict[str, Any]) -> list[str]:
    """The framework's answers this operation can give beside its own."""
    parameters = operation.get("parameters", [])
    codes = []
    if any(parameter["in"] == "query" for parameter in parameters) or "requestBody" in operation:
        codes.append("400")
    if operation.get("security") != [{}]:
        codes += ["401", "403"]
    if "{" in path or any(parameter["name"] == "cursor" for parameter in parameters):
        codes.append("404")
    return codes


def error_responses(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(COMPONENTS)
    for path, methods in result.get("paths", {}).items():
        for operation in methods.values():
            responses = operation.setdefault("responses", {})
            for code in _statuses(path, operation):
                responses.setdefault(code, _error_response(code))
            for code, response in responses.items():
                if code.startswith("4") and "content" not in response:
                    responses[code] = _error_response(code, response.get("description"))
    return result
