"""The request an action happens in, for the events services record without being handed it.

Services stay keyword-only and HTTP-free: the middleware puts the request here, and audit.services reads the
actor (after DRF has authenticated a token, it sets the user on the same HttpRequest) and the client address.
Outside a request (commands, the worker) there is none: the actor is whoever the service names, the address empty.
"""

import ipaddress
from contextvars import ContextVar

from allauth.account.adapter import get_adapter
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

_current_request: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)


def current_request() -> HttpRequest | None:
    return _current_request.get()


def client_address(request: HttpRequest | None) -> str:
    """The address the login limits see (the adapter's: CONCORD_TRUSTED_PROXIES from the right of
    X-Forwarded-For), whole, where the limits cut IPv6 to its /64; empty with no request or no usable address."""
    if request is None:
        return ""
    try:
        return str(ipaddress.ip_address(get_adapter().get_client_ip(request)))
    except (PermissionDenied, ValueError):
        return ""


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)
