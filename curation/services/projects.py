from django.db import transaction

from accounts.models import User
from curation.models import Project, RatingSchema, ReviewVisibility, SchemaTarget
from curation.schemas.defaults import RESPONSE_REVIEW, SEED_REVIEW
from curation.services.members import project_member_add


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
    *,
    name: str,
    slug: str,
    created_by: User | None,
    description: str = "",
    guidelines: str = "",
    reviewers_per_item: int = 2,
    review_visibility: str = ReviewVisibility.AFTER_ADJUDICATION,
    template: Project | None = None,
) -> Project:
    """A project with the default seed-review and response-review forms, or with `template`'s.

    From a template the new project takes the template's current rating forms (as version 1 of its
    own), its guidelines, k and visibility, unless given here; never its people or its data.
    """
    if template is not None:
        guidelines = guidelines or template.guidelines
        description = description or template.description
    project = Project(
        name=name,
        slug=slug,
        description=description,
        guidelines=guidelines,
        reviewers_per_item=reviewers_per_item,
        review_visibility=review_visibility,
        created_by=created_by,
    )
    project.full_clean()
    project.save()
    seed_form, response_form = _forms_of(template)
    project.seed_schema = rating_schema_create(
        project=project,
        name=seed_form[0],
        target=SchemaTarget.SEED_TASK,
        definition=seed_form[1],
        created_by=created_by,
    )
    project.response_schema = rating_schema_create(
        project=project,
        name=response_form[0],
        target=SchemaTarget.RESPONSE,
        definition=response_form[1],
        created_by=created_by,
    )
    project.save(update_fields=["seed_schema", "response_schema"])
    if created_by is not None:
        project_member_add(project=project, user=created_by)
    return project


def _forms_of(template: Project | None) -> tuple[tuple[str, dict], tuple[str, dict]]:
    """(name, definition) of the seed-review and response-review forms a new project starts with."""
    seed, response = ("Seed review", SEED_REVIEW), ("Response review", RESPONSE_REVIEW)
    if template is not None and template.seed_schema is not None:
        seed = (template.seed_schema.name, template.seed_schema.definition)
    if template is not None and template.response_schema is not None:
        response = (template.response_schema.name, template.response_schema.definition)
    return seed, response
