"""Judging in a human-evaluation round: a reviewer's answers for one scheduled item, recorded once and
never edited. Which item comes next is curation.selectors.round_judging."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import User
from audit.services import AuditAction, audit_record, texts_digested
from curation.models import (
    Judgment,
    RoundSlot,
    RoundStatus,
)
from curation.schemas.definitions import free_text_keys
from curation.services.reviews import AnswersInvalid
from curation.services.rubrics import rubric_form_answers


@transaction.atomic
def judgment_submit(*, slot: RoundSlot, reviewer: User, answers: dict[str, Any]) -> tuple[Judgment, bool]:
    """Record the reviewer's answers for their slot; returns (judgment, created).

    Idempotent: submitting the same answers again returns the existing judgment; different answers
    for a judged slot are refused, because judgments are never edited."""
    slot = RoundSlot.objects.select_for_update().select_related("round__schema").get(pk=slot.pk)
    if slot.reviewer_id != reviewer.pk:
        raise ValidationError("This item is scheduled for another reviewer.")
    evaluation_round = slot.round
    if evaluation_round.status != RoundStatus.FROZEN:
        raise ValidationError("This round is not open for judging.")
    # A field grading the prompt's rubric records the reviewer's grade of the response judged, blind.
    graded = None if evaluation_round.is_pairwise else slot.left_response
    try:
        cleaned, grade = rubric_form_answers(
            definition=evaluation_round.schema.definition, answers=answers, response=graded, grader=reviewer
        )
    except ValidationError as exc:
        raise AnswersInvalid(exc.error_dict if hasattr(exc, "error_dict") else exc.error_list) from exc
    existing = Judgment.objects.filter(slot=slot).first()
    if existing is not None:
        if existing.answers == cleaned:
            return existing, False
        raise ValidationError("You have already judged this item; judgments cannot be changed.")
    judgment = Judgment(
        round=evaluation_round,
        slot=slot,
        item_id=slot.item_id,
        reviewer=reviewer,
        left_response_id=slot.left_response_id,
        right_response_id=slot.right_response_id,
        answers=cleaned,
        rubric_grade=grade,
    )
    judgment.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            judgment.save()
    except IntegrityError as exc:
        raise ValidationError("You have already judged this item; judgments cannot be changed.") from exc
    audit_record(
        action=AuditAction.REVIEW_SUBMITTED,
        target=judgment,
        actor=reviewer,
        project_id=evaluation_round.project_id,
        after={
            "round": evaluation_round.pk,
            "answers": texts_digested(cleaned, free_text_keys(evaluation_round.schema.definition)),
        },
    )
    return judgment, True
