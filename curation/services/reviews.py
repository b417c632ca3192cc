from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from curation.models import Assignment, AssignmentStatus, ModelResponse, RatingSchema, Review, SeedTask
from curation.schema_definitions import clean_answers


@transaction.atomic
def review_submit(
    *,
    reviewer: User,
    schema: RatingSchema,
    answers: dict[str, Any],
    seed_task: SeedTask | None = None,
    response: ModelResponse | None = None,
    corrected_text: str = "",
    assignment: Assignment | None = None,
) -> Review:
    """Record a reviewer's answers. A second submission for the same item is a new version; the old one stays."""
    if (seed_task is None) == (response is None):
        raise ValidationError("A review is for exactly one seed task or one model response.")
    item_project_id = seed_task.project_id if seed_task else response.item.project_id
    if schema.project_id != item_project_id:
        raise ValidationError("The form belongs to another project than the item.")
    cleaned = clean_answers(schema.definition, answers)
    previous = (
        Review.objects.select_for_update()
        .filter(reviewer=reviewer, schema=schema, seed_task=seed_task, response=response, is_current=True)
        .first()
    )
    if previous is not None:
        previous.is_current = False
        previous.save(update_fields=["is_current"])
    review = Review(
        project_id=schema.project_id,
        schema=schema,
        reviewer=reviewer,
        assignment=assignment,
        seed_task=seed_task,
        response=response,
        answers=cleaned,
        corrected_text=corrected_text,
        version=previous.version + 1 if previous else 1,
        supersedes=previous,
    )
    review.full_clean()
    review.save()
    if assignment is not None and assignment.status != AssignmentStatus.DONE:
        assignment.status = AssignmentStatus.DONE
        assignment.completed_at = timezone.now()
        assignment.save(update_fields=["status", "completed_at"])
    return review
