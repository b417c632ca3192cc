"""API authentication with personal tokens (accounts.models.ApiToken), held to the same MFA policy as pages."""

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS

from . import services
from .access import mfa_enrolment_missing
from .models import ApiToken, TokenScope

KEYWORD = "Token"


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Token <key>`. Refuses revoked and expired tokens, inactive users, admins the MFA policy
    covers who have not enrolled an authenticator, and read-only tokens on writes."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as 'Authorization: Token <key>', with no spaces in the key."
            )
        try:
            key = parts[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("The token in the Authorization header is not valid text.") from exc
        token = ApiToken.objects.select_related("user").filter(key_hash=services.api_token_hash(key=key)).first()
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        self._check(token=token, method=request.method)
        services.api_token_mark_used(token=token)
        return token.user, token

    def _check(self, *, token: ApiToken, method: str) -> None:
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(
                f"This token was revoked on {timezone.localtime(token.revoked_at):%Y-%m-%d}; create a new one."
            )
        if token.is_expired:
            raise exceptions.AuthenticationFailed(
                f"This token expired on {timezone.localtime(token.expires_at):%Y-%m-%d}; create a new one."
            )
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The account this token belongs to is deactivated.")
        if mfa_enrolment_missing(user=token.user):
            raise exceptions.PermissionDenied(
                "Admins must enrol an authenticator app (two-factor authentication) before using API tokens."
            )
        if token.scope == TokenScope.READ and method not in SAFE_METHODS:
            raise exceptions.PermissionDenied(
                f"This token is read-only; {method} needs a token with the read-and-write scope."
            )

    def authenticate_header(self, request) -> str:
        return KEYWORD
