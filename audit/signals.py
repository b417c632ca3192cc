"""Sign-in, sign-out, failed sign-in, password and authenticator changes, from Django's and allauth's signals.

The other events are recorded by the services that perform them; these actions happen inside Django and allauth.
"""

from allauth.account.signals import password_changed, password_reset, password_set
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added, authenticator_removed, authenticator_reset
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


# Enrolling an authenticator app also makes the person's recovery codes, and removing the last app deletes
# them; allauth signals each. The app is the enrolment: the codes that come and go with it add no event.
# Codes made anew later are a reset (MFA_CODES_REGENERATED).


@receiver(authenticator_added, dispatch_uid="audit.mfa_enrolled")
def record_authenticator_added(sender, request, user, authenticator, **kwargs) -> None:
    if authenticator.type != Authenticator.Type.RECOVERY_CODES:
        audit_record(action=AuditAction.MFA_ENROLLED, target=user, actor=user, after=_described(authenticator))


@receiver(authenticator_removed, dispatch_uid="audit.mfa_removed")
def record_authenticator_removed(sender, request, user, authenticator, **kwargs) -> None:
    if authenticator.type != Authenticator.Type.RECOVERY_CODES:
        audit_record(action=AuditAction.MFA_REMOVED, target=user, actor=user, after=_described(authenticator))


@receiver(authenticator_reset, dispatch_uid="audit.mfa_codes_regenerated")
def record_authenticator_reset(sender, request, user, authenticator, **kwargs) -> None:
    audit_record(action=AuditAction.MFA_CODES_REGENERATED, target=user, actor=user, after=_described(authenticator))


def _described(authenticator: Authenticator) -> dict:
    """The authenticator's kind and id; the event's object is the person, as a removed authenticator has no id
    left to name."""
    return {"type": authenticator.type, "authenticator_id": authenticator.pk}


@receiver(password_changed, dispatch_uid="audit.password_changed")
@receiver(password_set, dispatch_uid="audit.password_set")
@receiver(password_reset, dispatch_uid="audit.password_reset")
def record_password_changed(sender, request, user, signal, **kwargs) -> None:
    how = {password_changed: "changed", password_set: "set", password_reset: "reset"}[signal]
    audit_record(action=AuditAction.PASSWORD_CHANGED, target=user, actor=user, after={"how": how})
