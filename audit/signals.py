"""Sign-in, sign-out, failed sign-in and authenticator changes, from Django's and allauth's signals.

The other events are recorded by the services that perform them; these actions happen inside Django and allauth.
"""

from allauth.mfa.signals import authenticator_added, authenticator_removed
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .models import AuditAction
from .services import audit_record


@receiver(user_logged_in, dispatch_uid="audit.sign_in")
def record_sign_in(sender, request, user, **kwargs) -> None:
    audit_record(action=AuditAction.SIGN_IN, target=user, actor=user)


@receiver(user_logged_out, dispatch_uid="audit.sign_out")
def record_sign_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_record(action=AuditAction.SIGN_OUT, target=user, actor=user)


@receiver(user_login_failed, dispatch_uid="audit.sign_in_failed")
def record_sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    """The address typed is kept (Django has already masked the password); no account is named, as none
    may exist for it."""
    typed = str(credentials.get("email") or credentials.get("username") or "")[:254]
    audit_record(action=AuditAction.SIGN_IN_FAILED, after={"email": typed})


@receiver(authenticator_added, dispatch_uid="audit.mfa_enrolled")
def record_authenticator_added(sender, request, user, authenticator, **kwargs) -> None:
    audit_record(action=AuditAction.MFA_ENROLLED, target=authenticator, actor=user, after={"type": authenticator.type})


@receiver(authenticator_removed, dispatch_uid="audit.mfa_removed")
def record_authenticator_removed(sender, request, user, authenticator, **kwargs) -> None:
    audit_record(action=AuditAction.MFA_REMOVED, target=authenticator, actor=user, after={"type": authenticator.type})
