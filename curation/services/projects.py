from django.db import transaction

from accounts.models import User
from curation.models import Membership, Project, RatingSchema, SchemaTarget
from curation.schemas.defaults import RESPONSE_REVIEW, SEED_REVIEW


@transaction.atomic
def rating_schema_create(
    *, project: Project, name: str, target: str, definition: dict, created_by: User | None = None
) -> RatingSchema:
    """A new version of the named form (version 1 if the project has none by that name)."""
    latest = RatingSchema.objects.filter(project=project, name=name).order_by("-version").first()
    schema = RatingSchema(
        project=project,
        name=name,
        target=target,
        definition=definition,
        version=latest.version + 1 if latest else 1,
        created_by=created_by,
    )
    schema.full_clean()
    schema.save()
    return schema


@transaction.atomic
def project_create(
    *, name: str, slug: str, created_by: User | None, description: str = "", guidelines: str = ""
) -> Project:
    """A project with the default seed-review and response-review forms."""
    project = Project(name=name, slug=slug, description=description, guidelines=guidelines, created_by=created_by)
    project.full_clean()
    project.save()
    project.seed_schema = rating_schema_create(
        project=project,
        name="Seed review",
        target=SchemaTarget.SEED_TASK,
        definition=SEED_REVIEW,
        created_by=created_by,
    )
    project.response_schema = rating_schema_create(
        project=project,
        name="Response review",
        target=SchemaTarget.RESPONSE,
        definition=RESPONSE_REVIEW,
        created_by=created_by,
    )
    project.save(update_fields=["seed_schema", "response_schema"])
    if created_by is not None:
        project_member_add(project=project, user=created_by)
    return project


def project_member_add(*, project: Project, user: User) -> Membership:
    membership, _ = Membership.objects.get_or_create(project=project, user=user)
    return membership
