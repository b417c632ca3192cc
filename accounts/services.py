import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.services import AuditAction, audit_record
from curation.models import Project
from curation.services.members import project_member_add

from .models import ApiToken, Invitation, Role, TokenScope, User

API_TOKEN_KEY_PREFIX = "concord_"


@transaction.atomic
def invitation_create(
    *,
    invited_by: User,
    email: str,
    role: str = Role.CLINICIAN,
    name: str = "",
    specialty: str = "",
    credentials: str = "",
    projects: Iterable[Project] = (),
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
    invitation.projects.set(projects)
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
    audit_record(
        action=AuditAction.INVITATION_SENT,
        target=invitation,
        after={"email": invitation.email, "role": invitation.role},
    )


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> None:
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(action=AuditAction.INVITATION_REVOKED, target=invitation, after={"email": invitation.email})


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
    audit_record(
        action=AuditAction.INVITATION_ACCEPTED,
        target=invitation,
        actor=user,
        after={"user_id": user.pk, "role": user.role},
    )
    for project in invitation.projects.all():
        project_member_add(project=project, user=user)
    return user


def api_token_hash(*, key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *, user: User, name: str, scope: str = TokenScope.READ, days: int | None = None
) -> tuple[ApiToken, str]:
    """A new token and its key. The key is returned only here: the database keeps its hash."""
    days = settings.CONCORD_API_TOKEN_DAYS if days is None else days
    if not 1 <= days <= settings.CONCORD_API_TOKEN_DAYS:
        raise ValidationError(
            {"days": f"A token lives between 1 and {settings.CONCORD_API_TOKEN_DAYS} days, not {days}."}
        )
    key = API_TOKEN_KEY_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken(
        user=user,
        name=name.strip(),
        scope=scope,
        prefix=key[: len(API_TOKEN_KEY_PREFIX) + 4],
        key_hash=api_token_hash(key=key),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    token.full_clean()
    token.save()
    audit_record(
        action=AuditAction.TOKEN_CREATED,
        target=token,
        actor=user,
        after={"name": token.name, "scope": token.scope, "prefix": token.prefix},
    )
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(action=AuditAction.TOKEN_REVOKED, target=token, after={"prefix": token.prefix})


@transaction.atomic
def api_token_revoke_all(*, user: User) -> int:
    """Revoke every live token of the user: called whenever their password, role or active state changes.
    One event names how many were revoked (none when the person had no live token)."""
    live = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
    prefixes = sorted(live.values_list("prefix", flat=True))
    revoked = live.update(revoked_at=timezone.now())
    if revoked:
        audit_record(action=AuditAction.TOKENS_REVOKED, target=user, after={"count": revoked, "prefixes": prefixes})
    return revoked


def api_token_mark_used(*, token: ApiToken) -> None:
    """Record use at most once a minute, so a busy script does not write a row on every request."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        audit_record(action=AuditAction.TOKEN_USED, target=token, actor=token.user, after={"prefix": token.prefix})
        token.last_used_at = now


@transaction.atomic
def user_role_set(*, user: User, role: str) -> User:
    """Change what a person may do. Their API tokens were granted under the old role, so they are revoked."""
    if role not in Role.values:
        raise ValidationError({"role": f"{role!r} is not a role; choose one of {', '.join(Role.values)}."})
    before = {"role": user.role}
    user.role = role
    user.is_staff = role == Role.ADMIN
    user.save(update_fields=["role", "is_staff"])
    audit_record(action=AuditAction.ROLE_CHANGED, target=user, before=before, after={"role": role})
    api_token_revoke_all(user=user)
    return user


RELEASE_PERMISSION = ("curation", "make_release")


@transaction.atomic
def user_release_permission_set(*, user: User, allowed: bool) -> User:
    """Let a curator build and download releases, or stop them. Admins always may; clinicians never do."""
    from django.contrib.auth.models import Permission

    if not user.is_curator:
        raise ValidationError({"allowed": "Only curators are granted releases; admins always have them."})
    permission = Permission.objects.get(content_type__app_label=RELEASE_PERMISSION[0], codename=RELEASE_PERMISSION[1])
    had = user.user_permissions.filter(pk=permission.pk).exists()
    if had == allowed:
        return user
    (user.user_permissions.add if allowed else user.user_permissions.remove)(permission)
    audit_record(
        action=AuditAction.ROLE_CHANGED, target=user, before={"make_release": had}, after={"make_release": allowed}
    )
    return user


@transaction.atomic
def user_deactivate(*, user: User) -> User:
    """Stop a person signing in; their API tokens stop working with them.

    Their open sessions end too: Django's authentication backend refuses an inactive user on their next
    request. Their reviews stay, and so do their assignments (a curator reassigns them from the project).
    """
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit_record(
        action=AuditAction.USER_DEACTIVATED, target=user, before={"is_active": True}, after={"is_active": False}
    )
    api_token_revoke_all(user=user)
    return user
