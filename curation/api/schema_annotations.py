"""drf-spectacular's @extend_schema, recorded when a view is declared and applied when a schema is generated.

drf-spectacular's own decorator subclasses the view's schema class as it decorates, so the first view it
decorates imports drf_spectacular.openapi, and with it DRF's and Django's test clients and Jinja2: every
process that loads the URLs (`manage.py check`, each web server) would pay for them at start, for a schema
few requests ask for. API views use `extend_schema` from here instead, with the same arguments; the
preprocessing hook `annotations_applied` (named first in SPECTACULAR_SETTINGS) hands each recorded
annotation to drf-spectacular, in the order the views declared them, before the operations are built.
"""

import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

# (decorated view or method, extend_schema's keyword arguments), in the order they were declared: a
# method's annotation comes before its class's, which drf-spectacular's class decoration relies on.
_pending: list[tuple[Callable[..., Any], dict[str, Any]]] = []
# Two requests for the schema may generate it at once: each annotation is applied exactly once.
_applying = threading.Lock()


def extend_schema(**kwargs: Any) -> Callable[[F], F]:
    """drf_spectacular.utils.extend_schema, applied when the first schema is generated."""

    def recorded(view: F) -> F:
        with _applying:
            _pending.append((view, kwargs))
        return view

    return recorded


def annotations_applied(endpoints: list) -> list:
    """drf-spectacular preprocessing hook: applies the annotations recorded so far; the endpoints unchanged.
    The URLs are loaded before any hook runs, so every API view has been declared by then."""
    from drf_spectacular.utils import extend_schema as spectacular_extend_schema

    with _applying:
        while _pending:
            view, kwargs = _pending.pop(0)
            spectacular_extend_schema(**kwargs)(view)
    return endpoints
