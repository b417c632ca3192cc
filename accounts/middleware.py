import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse

from .access import mfa_enrolment_missing


class AdminMfaRequiredMiddleware:
    """With CONCORD_REQUIRE_ADMIN_MFA on, an admin without a TOTP authenticator can only enrol one or sign out.

    This runs before DRF signs in API tokens, so it only sees session users: token requests are held to the
    same policy by accounts.authentication.ApiTokenAuthentication.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(("/accounts/", "/static/"))
            and mfa_enrolment_missing(user=user)
        ):
            return redirect(reverse("mfa_activate_totp") + f"?next={request.path}")
        return self.get_response(request)


class PermissionsPolicyMiddleware:
    """Switch off browser features Concord never uses (CONCORD_PERMISSIONS_POLICY), so injected content cannot."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.CONCORD_PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.CONCORD_PERMISSIONS_POLICY)
        return response


BACKGROUND_HEADER = "X-Concord-Background"
LAST_ACTIVITY_KEY = "concord_last_activity"
# Activity is written at most this often, so the session is not saved again on every click; the warning
# (a minute before the end) still comes before the server ends the session.
ACTIVITY_WRITE_SECONDS = 30


class SessionIdleTimeoutMiddleware:
    """Sign a session out after CONCORD_SESSION_IDLE_MINUTES without activity.

    Requests marked `X-Concord-Background: 1` (draft autosaves, htmx polling; static/concord/session.js and
    review.js mark them) do not count as activity, so a page left open does not keep its session alive.
    Token requests are not sessions and are untouched.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            last = request.session.get(LAST_ACTIVITY_KEY)
            if last is not None and now - last > settings.CONCORD_SESSION_IDLE_MINUTES * 60:
                logout(request)
                messages.info(
                    request,
                    f"You were signed out after {settings.CONCORD_SESSION_IDLE_MINUTES} minutes without activity.",
                )
            elif request.headers.get(BACKGROUND_HEADER) != "1" and (
                last is None or now - last > ACTIVITY_WRITE_SECONDS
            ):
                request.session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)
