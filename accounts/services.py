from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .models import Invitation, Role, User


@transaction.atomic
def invitation_create(
    *,
    invited_by: User,
    email: str,
    role: str = Role.CLINICIAN,
    name: str = "",
    specialty: str = "",
    credentials: str = "",
) -> Invitation:
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": f"{email} already has an account."})
    if Invitation.objects.filter(email=email, accepted_at__isnull=True, revoked_at__isnull=True).exists():
        raise ValidationError({"email": f"{email} already has an open invitation; revoke it to send a new one."})
    invitation = Invitation(
        email=email, role=role, name=name, specialty=specialty, credentials=credentials, invited_by=invited_by
    )
    invitation.full_clean()
    invitation.save()
    return invitation


def invitation_send(*, invitation: Invitation, base_url: str) -> None:
    link = base_url.rstrip("/") + reverse("invitation_accept", kwargs={"token": invitation.token})
    send_mail(
        subject="You are invited to Concord",
        message=(
            f"{invitation.invited_by} invited you to review medical data in Concord as a "
            f"{invitation.get_role_display().lower()}.\n\nSet your password here (valid until "
            f"{invitation.expires_at:%Y-%m-%d}):\n{link}\n"
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> None:
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])


@transaction.atomic
def invitation_accept(*, invitation: Invitation, password: str) -> User:
    """Create the invited account with the chosen password. Call with an invitation from access_open_invitation."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_usable:
        raise ValidationError("This invitation has already been used or has expired.")
    user = User(
        email=invitation.email,
        name=invitation.name,
        role=invitation.role,
        specialty=invitation.specialty,
        credentials=invitation.credentials,
        is_staff=invitation.role == Role.ADMIN,
    )
    validate_password(password, user=user)
    user.set_password(password)
    user.full_clean()
    user.save()
    invitation.accepted_at = timezone.now()
    invitation.user = user
    invitation.save(update_fields=["accepted_at", "user"])
    return user
