"""Who works on a project: curators add people to a project and take them off it."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit.services import AuditAction, audit_record
from curation.models import Assignment, AssignmentStatus, Membership, Project
from curation.services.assignments import assignments_released_counted


def project_member_add(*, project: Project, user: User) -> Membership:
    """Make `user` a member of `project` (nothing changes if they already are)."""
    if not user.is_active:
        raise ValidationError({"user": f"{user.email} is deactivated; an admin must reactivate the account first."})
    membership, created = Membership.objects.get_or_create(project=project, user=user)
    if created:
        audit_record(
            action=AuditAction.MEMBER_ADDED, target=membership, after={"user_id": user.pk, "email": user.email}
        )
    return membership


@transaction.atomic
def project_member_remove(*, project: Project, user: User) -> int:
    """Take `user` off `project`. Their reviews stay (they are the record); their open assignments are
    released so a curator can give the items to someone else. Returns the number of assignments released."""
    membership = Membership.objects.filter(project=project, user=user).first()
    if membership is None:
        raise ValidationError({"user": f"{user.email} is not a member of {project.name}."})
    membership_id = membership.pk  # the event names the membership MEMBER_ADDED named, gone once deleted
    membership.delete()
    audit_record(
        action=AuditAction.MEMBER_REMOVED,
        object_type="curation.membership",
        object_id=str(membership_id),
        project_id=project.pk,
        before={"user_id": user.pk, "email": user.email},
    )
    released = Assignment.objects.filter(project=project, reviewer=user, status=AssignmentStatus.PENDING).update(
        status=AssignmentStatus.SKIPPED, completed_at=timezone.now()
    )
    assignments_released_counted(project_id=project.pk, reviewer_id=user.pk, released=released)
    return released
