"""A new password ends the API tokens made under the old one.

allauth's signals cover the change, set and reset pages; the Django admin's password form is covered in
accounts.admin. A password set from a shell (User.set_password) is not: revoke with api_token_revoke_all.
"""

from allauth.account.signals import password_changed, password_reset, password_set
from django.dispatch import receiver

from . import services


@receiver(password_changed, dispatch_uid="accounts.revoke_tokens_on_password_changed")
@receiver(password_set, dispatch_uid="accounts.revoke_tokens_on_password_set")
@receiver(password_reset, dispatch_uid="accounts.revoke_tokens_on_password_reset")
def revoke_tokens_on_new_password(sender, request, user, **kwargs) -> None:
    services.api_token_revoke_all(user=user)
