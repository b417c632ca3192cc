from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.internal.ratelimit import get_ip


class InviteOnlyAccountAdapter(DefaultAccountAdapter):
    """Nobody signs themselves up: an admin's invitation creates the account (accounts.services)."""

    def is_open_for_signup(self, request) -> bool:
        return False

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        """Count failed logins per account *and* client address (allauth counts per account): someone guessing
        a password locks the account from their own address, not for its owner signing in from elsewhere.
        Guessing from many addresses is held back by each address's own limit (ACCOUNT_RATE_LIMITS)."""
        return f"{super()._get_login_attempts_cache_key(request, **credentials)}:{get_ip(request)}"
