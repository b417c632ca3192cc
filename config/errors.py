"""Error pages: the app's layout with a way back for people, JSON under /api/ for programs."""

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


def _error(request: HttpRequest, status: int, detail: str) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": detail}, status=status)
    return render(request, f"errors/{status}.html", {"detail": detail}, status=status)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, "Not found.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, "You do not have permission to perform this action.")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, "The request could not be understood.")


def server_error(request: HttpRequest) -> HttpResponse:
    """Rendered without the request's context: whatever broke may be what the context processors need."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "Server error."}, status=500)
    try:
        return HttpResponse(loader.get_template("errors/500.html").render(), status=500)
    except Exception:  # the error page must never fail in turn
        logger.exception("The 500 page could not be rendered")
        return HttpResponse("Server error.", content_type="text/plain", status=500)
