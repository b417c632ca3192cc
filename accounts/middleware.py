from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse


class AdminMfaRequiredMiddleware:
    """With CONCORD_REQUIRE_ADMIN_MFA on, an admin without a TOTP authenticator can only enrol one or sign out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            settings.CONCORD_REQUIRE_ADMIN_MFA
            and user is not None
            and user.is_authenticated
            and user.is_admin
            and not request.path.startswith(("/accounts/", "/static/"))
            and not user.authenticator_set.filter(type="totp").exists()
        ):
            return redirect(reverse("mfa_activate_totp") + f"?next={request.path}")
        return self.get_response(request)
