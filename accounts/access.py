"""Who may do what with people and invitations. Views reach these objects only through here."""

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import Invitation, User


def require_admin(*, user: User) -> None:
    if not (user.is_authenticated and user.is_admin):
        raise PermissionDenied("Only admins manage people and invitations.")


def mfa_enrolment_missing(*, user: User) -> bool:
    """Whether the MFA policy covers this signed-in user and they have not enrolled an authenticator app yet.

    Pages send such a user to enrolment (accounts.middleware); API tokens are refused for them
    (accounts.authentication). Recovery codes alone do not count: they come with an authenticator.
    """
    return (
        settings.CONCORD_REQUIRE_ADMIN_MFA
        and user.is_admin
        and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    )


def access_open_invitation(*, token: str) -> Invitation:
    """The invitation behind an emailed link, if it can still be used; 404 otherwise, so tokens cannot be probed."""
    invitation = Invitation.objects.filter(token=token).first()
    if invitation is None or not invitation.is_usable:
        raise Http404("This invitation link is not valid any more. Ask an admin for a new one.")
    return invitation


def access_person(*, user: User, person_id: int) -> User:
    """Another person's account, for an admin to change; an admin cannot demote or deactivate themselves here
    (another admin must), so a site never loses its last admin by a slip."""
    require_admin(user=user)
    person = User.objects.filter(pk=person_id).first()
    if person is None:
        raise Http404("No such person.")
    if person.pk == user.pk:
        raise PermissionDenied("Ask another admin to change your own role or account.")
    return person
