"""A new password ends the API tokens made under the old one; signing in starts the idle timer.

allauth's signals cover the change, set and reset pages; the Django admin's password form is covered in
accounts.admin. A password set from a shell (User.set_password) is not: revoke with api_token_revoke_all.
"""

import time

from allauth.account.signals import password_changed, password_reset, password_set
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from . import services
from .middleware import LAST_ACTIVITY_KEY


@receiver(password_changed, dispatch_uid="accounts.revoke_tokens_on_password_changed")
@receiver(password_set, dispatch_uid="accounts.revoke_tokens_on_password_set")
@receiver(password_reset, dispatch_uid="accounts.revoke_tokens_on_password_reset")
def revoke_tokens_on_new_password(sender, request, user, **kwargs) -> None:
    services.api_token_revoke_all(user=user)


@receiver(user_logged_in, dispatch_uid="accounts.start_idle_timer")
def start_idle_timer(sender, request, user, **kwargs) -> None:
    """Signing in is activity: the idle timer starts here, not with a session write on the next page."""
    if request is not None and hasattr(request, "session"):
        request.session[LAST_ACTIVITY_KEY] = time.time()
