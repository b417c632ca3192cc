from allauth.account.adapter import DefaultAccountAdapter


class InviteOnlyAccountAdapter(DefaultAccountAdapter):
    """Nobody signs themselves up: an admin's invitation creates the account (accounts.services)."""

    def is_open_for_signup(self, request) -> bool:
        return False
