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
