"""Reads of people for the admins' People page."""

from django.contrib.auth.models import Permission
from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from curation.models import Membership

from .models import Invitation, User

PEOPLE_PAGE_SIZE = 200


def people_list(*, after_email: str = "") -> QuerySet[User]:
    """People in email order, with their projects in one more query and whether they were granted releases
    (`may_release`); a page starts after `after_email`."""
    memberships = Membership.objects.select_related("project").order_by("project__name")
    granted = Permission.objects.filter(
        content_type__app_label="curation", codename="make_release", user=OuterRef("pk")
    )
    people = (
        User.objects.order_by("email")
        .annotate(may_release=Exists(granted))
        .prefetch_related(Prefetch("memberships", queryset=memberships))
    )
    if after_email:
        people = people.filter(email__gt=after_email)
    return people


def invitations_open() -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by")
        .prefetch_related("projects")
    )
