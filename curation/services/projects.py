from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit.services import AuditAction, audit_record
from curation.access import require_curator
from curation.models import Project, RatingSchema, ReviewVisibility, SchemaTarget
from curation.schemas.defaults import RESPONSE_REVIEW, SEED_REVIEW
from curation.schemas.definitions import is_prompt_rubric
from curation.selectors.adjudication import adjudication_settings_of
from curation.services.adjudication import adjudication_settings_update
from curation.services.members import project_member_add

# Addresses under projects/ that are pages, not projects: a project by one of these names could not be opened.
RESERVED_SLUGS = frozenset({"new", "archived"})
_DEFAULT_FORM_NAMES = {SchemaTarget.SEED_TASK: "Seed review", SchemaTarget.RESPONSE: "Response review"}


@dataclass(frozen=True)
class OverlapPolicy:
    """How a project finds disagreements and whether one earns an extra reviewer (AdjudicationSettings)."""

    rule: str
    min_spread: int
    dynamic_overlap: bool


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
    overlap: OverlapPolicy | None = None,
) -> Project:
    """A project with the default seed-review and response-review forms, or with `template`'s.

    From a template the new project takes the template's current rating forms (as version 1 of its
    own), its guidelines, k and visibility, unless given here; never its people or its data.
    `overlap` sets its adjudication settings (the defaults otherwise); it needs a curator as `created_by`.
    """
    if slug in RESERVED_SLUGS:
        raise ValidationError({"slug": f"{slug!r} is the address of a page; choose another short name."})
    if created_by is not None and not created_by.is_curator:
        raise ValidationError(
            {"created_by": f"{created_by.email} is not a curator or an admin; only they create projects."}
        )
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
    audit_record(
        action=AuditAction.PROJECT_CREATED,
        target=project,
        actor=created_by,
        project_id=project.pk,
        after={"name": name, "slug": slug, "template": template.slug if template else None},
    )
    if created_by is not None:
        project_member_add(project=project, user=created_by)
    if overlap is not None:
        _overlap_set(project=project, actor=created_by, overlap=overlap)
    return project


def _forms_of(template: Project | None) -> tuple[tuple[str, dict], tuple[str, dict]]:
    """(name, definition) of the seed-review and response-review forms a new project starts with."""
    seed = (_DEFAULT_FORM_NAMES[SchemaTarget.SEED_TASK], SEED_REVIEW)
    response = (_DEFAULT_FORM_NAMES[SchemaTarget.RESPONSE], RESPONSE_REVIEW)
    if template is not None and template.seed_schema is not None:
        seed = (template.seed_schema.name, template.seed_schema.definition)
    if template is not None and template.response_schema is not None:
        response = (template.response_schema.name, template.response_schema.definition)
    return seed, response


def _overlap_set(*, project: Project, actor: User, overlap: OverlapPolicy) -> None:
    current = adjudication_settings_of(project=project)
    # Saving the defaults a project already works under (no row yet) changes nothing: no row, no event.
    if (current.rule, current.min_spread, current.dynamic_overlap) == (
        overlap.rule,
        overlap.min_spread,
        overlap.dynamic_overlap,
    ):
        return
    adjudication_settings_update(
        project=project,
        actor=actor,
        rule=overlap.rule,
        min_spread=overlap.min_spread,
        dynamic_overlap=overlap.dynamic_overlap,
    )


_SETTINGS = (
    "name",
    "description",
    "guidelines",
    "reviewers_per_item",
    "review_visibility",
    "task_editors",
    "accepted_task_edits",
)


@transaction.atomic
def project_update(
    *,
    project: Project,
    actor: User,
    name: str,
    description: str,
    guidelines: str,
    reviewers_per_item: int,
    review_visibility: str,
    task_editors: str | None = None,
    accepted_task_edits: str | None = None,
    overlap: OverlapPolicy | None = None,
) -> Project:
    """Change a project's settings. New guidelines text is a new guidelines version, so a review can
    say which version its reviewer read; the same text keeps the version. The edit policy (who may edit
    tasks, what an edit of an accepted task does) changes only when given."""
    require_curator(user=actor, doing="change a project's settings")
    # From the stored row, not the instance: a ModelForm may have written the new values onto it already.
    before = Project.objects.filter(pk=project.pk).values(*_SETTINGS).get()
    project.name, project.description, project.guidelines = name, description, guidelines
    project.reviewers_per_item, project.review_visibility = reviewers_per_item, review_visibility
    if task_editors is not None:
        project.task_editors = task_editors
    if accepted_task_edits is not None:
        project.accepted_task_edits = accepted_task_edits
    if guidelines != before["guidelines"]:
        project.guidelines_version += 1
    project.full_clean()
    project.save()
    changed = [field for field in _SETTINGS if getattr(project, field) != before[field]]
    if changed:
        audit_record(
            action=AuditAction.SETTINGS_CHANGED,
            target=project,
            actor=actor,
            project_id=project.pk,
            before={field: before[field] for field in changed},
            after={field: getattr(project, field) for field in changed},
        )
    if overlap is not None:
        _overlap_set(project=project, actor=actor, overlap=overlap)
    return project


@transaction.atomic
def project_archive(*, project: Project, actor: User, archived: bool = True) -> Project:
    """Archive a project (or, with `archived=False`, reopen it). Archived, it leaves the dashboard and
    refuses new assignments and imports; its tasks, reviews and releases stay readable."""
    require_curator(user=actor, doing="archive or unarchive a project")
    was = project.archived_at
    if (was is not None) == archived:
        return project
    project.archived_at = timezone.now() if archived else None
    project.save(update_fields=["archived_at"])
    audit_record(
        action=AuditAction.SETTINGS_CHANGED,
        target=project,
        actor=actor,
        project_id=project.pk,
        before={"archived": was is not None},
        after={"archived": archived},
    )
    return project


_FORM_OF_TARGET = {SchemaTarget.SEED_TASK: "seed_schema", SchemaTarget.RESPONSE: "response_schema"}


@transaction.atomic
def rating_form_update(*, project: Project, target: str, definition: dict, actor: User) -> RatingSchema:
    """Save a project's seed-review or response-review form as a new version and point the project at it.

    Reviews already made keep the version they were made with. A definition equal to the current one makes
    no version. Raises ValidationError for a definition the form language refuses.
    """
    require_curator(user=actor, doing="change a project's rating forms")
    if target not in _FORM_OF_TARGET:
        raise ValidationError(f"target: must be one of {', '.join(_FORM_OF_TARGET)} (got {target!r})")
    if target == SchemaTarget.SEED_TASK and isinstance(definition, dict):
        graded = [f.get("key") for f in definition.get("fields") or [] if isinstance(f, dict) and is_prompt_rubric(f)]
        if graded:
            raise ValidationError(
                f"field {graded[0]!r}: a seed task has no prompt rubric to grade; "
                "only the response-review form can take its criteria from the prompt's rubric"
            )
    attribute = _FORM_OF_TARGET[target]
    current: RatingSchema | None = getattr(project, attribute)
    if current is not None and current.definition == definition:
        return current
    name = current.name if current is not None else _DEFAULT_FORM_NAMES[target]
    schema = rating_schema_create(project=project, name=name, target=target, definition=definition, created_by=actor)
    setattr(project, attribute, schema)
    project.save(update_fields=[attribute])
    audit_record(
        action=AuditAction.SETTINGS_CHANGED,
        target=project,
        actor=actor,
        project_id=project.pk,
        before={attribute: str(current) if current else None},
        after={attribute: str(schema)},
    )
    return schema
