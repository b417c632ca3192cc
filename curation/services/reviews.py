import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit.services import AuditAction, audit_record, text_digest, texts_digested
from curation.models import (
    FLAG_ANSWER_FIELD,
    Assignment,
    AssignmentStatus,
    FlagKind,
    ModelResponse,
    RatingSchema,
    Review,
    ReviewDraft,
    SeedTask,
)
from curation.schemas.definitions import free_text_keys
from curation.services.assignments import assignment_status_counted, reviewer_edited_task
from curation.services.phi import phi_item_scan
from curation.services.rubrics import rubric_form_answers

DRAFT_TEXT_LIMIT = 100_000


class AnswersInvalid(ValidationError):
    """The answers refused, keyed by the form's field keys; the API reports them under `answers`."""

    input_field = "answers"


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
    submission_key: uuid.UUID | None = None,
) -> Review:
    """Record a reviewer's answers. A second submission for the same item is a new version; the old one stays.

    With a `submission_key`, a repeat of a submission already recorded (a double click, a retried
    request) returns the review it made instead of making another.
    """
    if submission_key is not None:
        existing = _submission_of(submission_key=submission_key, reviewer=reviewer)
        if existing is not None:
            return existing
    return _review_recorded(
        reviewer=reviewer,
        schema=schema,
        answers=answers,
        seed_task=seed_task,
        response=response,
        corrected_text=corrected_text,
        assignment=assignment,
        submission_key=submission_key,
    )


def _submission_of(*, submission_key: uuid.UUID, reviewer: User) -> Review | None:
    """The review a submission key already made, if any; a key another reviewer used is refused."""
    existing = Review.objects.filter(submission_key=submission_key).first()
    if existing is not None and existing.reviewer_id != reviewer.pk:
        raise ValidationError({"submission_key": "This submission key belongs to another submission."})
    return existing


def _review_recorded(
    *,
    reviewer: User,
    schema: RatingSchema,
    answers: dict[str, Any],
    seed_task: SeedTask | None,
    response: ModelResponse | None,
    corrected_text: str,
    assignment: Assignment | None,
    submission_key: uuid.UUID | None,
) -> Review:
    """review_submit once its submission key is known to be new. Call inside a transaction."""
    cleaned = _answers_checked(
        schema=schema, answers=answers, seed_task=seed_task, response=response, reviewer=reviewer
    )
    previous = (
        Review.objects.select_for_update()
        .filter(reviewer=reviewer, schema=schema, seed_task=seed_task, response=response, is_current=True)
        .first()
    )
    if previous is not None:
        previous.is_current = False
        previous.save(update_fields=["is_current"])
    review = Review(
        # The assignment's project is loaded with it: the steps below read the review's project.
        **({"project": assignment.project} if assignment is not None else {"project_id": schema.project_id}),
        schema=schema,
        reviewer=reviewer,
        assignment=assignment,
        seed_task=seed_task,
        response=response,
        answers=cleaned,
        corrected_text=corrected_text,
        version=previous.version + 1 if previous else 1,
        supersedes=previous,
        submission_key=submission_key,
    )
    # The item, form, reviewer and assignment are rows this call already holds, the submission key was
    # looked up above and one current review per reviewer and item is the database's constraint: check
    # the values alone, without a query per foreign key and constraint (eleven of a submit's queries).
    review.full_clean(
        exclude=["project", "schema", "reviewer", "assignment", "seed_task", "response", "supersedes"],
        validate_unique=False,
        validate_constraints=False,
    )
    review.save()
    phi_item_scan(owner=review, new=True)  # a comment or correction holding PHI flags the item at once
    if assignment is not None and assignment.status != AssignmentStatus.DONE:
        old_status = assignment.status
        assignment.status = AssignmentStatus.DONE
        assignment.completed_at = timezone.now()
        assignment.save(update_fields=["status", "completed_at"])
        assignment_status_counted(assignment=assignment, old=old_status)
    from curation.services.dynamic_overlap import overlap_after_review

    overlap_after_review(review=review)
    # Last: the audit trail's chain head is one row every submit locks until it commits, so every
    # other write of the submit is done before it is taken and the lock is held only to commit.
    audit_record(
        action=AuditAction.REVIEW_SUBMITTED,
        target=review,
        actor=reviewer,
        before=previous and {"id": previous.pk, **_audited_texts(schema, previous.answers, previous.corrected_text)},
        after={**_audited_texts(schema, cleaned, corrected_text), "version": review.version},
    )
    return review


def _audited_texts(schema: RatingSchema, answers: dict[str, Any], corrected_text: str) -> dict[str, Any]:
    """A review as the audit trail keeps it: choices and scores as given, free text and corrections by digest."""
    return {
        "answers": texts_digested(answers, free_text_keys(schema.definition)),
        "corrected_text": text_digest(corrected_text) if corrected_text else "",
    }


def _answers_checked(
    *,
    schema: RatingSchema,
    answers: dict[str, Any],
    seed_task: SeedTask | None,
    response: ModelResponse | None,
    reviewer: User,
) -> dict[str, Any]:
    """The answers as the form stores them, once the item and the form are known to belong together.

    A field grading the prompt's rubric records the reviewer's rubric grade here, in the review's
    transaction (rubric_form_answers)."""
    if (seed_task is None) == (response is None):
        raise ValidationError("A review is for exactly one seed task or one model response.")
    item_project_id = seed_task.project_id if seed_task else response.item.project_id
    if schema.project_id != item_project_id:
        raise ValidationError("The form belongs to another project than the item.")
    try:
        return rubric_form_answers(definition=schema.definition, answers=answers, response=response, grader=reviewer)[0]
    except ValidationError as exc:
        raise AnswersInvalid(exc.error_dict if hasattr(exc, "error_dict") else exc.error_list) from exc


def _correction_kept(*, original: str, text: str) -> str:
    """The corrected response a review keeps: none when the text is the original again (the page
    offers the original to edit, so submitting it untouched is no correction)."""
    return "" if text.strip() == original.strip() else text


def _schema_for(*, assignment: Assignment, reviewer: User, corrected_text: str) -> RatingSchema:
    """The form the reviewer rates this item with, once it is certain they may rate it this way."""
    project = assignment.project
    if assignment.response_id is not None:
        if assignment.response.seed_task_id and reviewer_edited_task(
            reviewer=reviewer, task_id=assignment.response.seed_task_id
        ):
            raise ValidationError("You edited the seed task this response answers, so someone else rates it.")
        schema = project.response_schema
    else:
        schema = project.seed_schema
        if corrected_text:
            raise ValidationError({"corrected_text": "A corrected response belongs to a model response only."})
    if schema is None:
        raise ValidationError("This project has no rating form for this kind of item yet.")
    return schema


@dataclass(frozen=True)
class ReviewSubmission:
    """The review a submission stands for, and whether this call made it (False: a repeat of `submission_key`)."""

    review: Review
    created: bool


def review_submit_for_assignment(
    *,
    assignment_id: int,
    reviewer: User,
    answers: dict[str, Any],
    corrected_text: str = "",
    submission_key: uuid.UUID | None = None,
) -> Review:
    """Submit the reviewer's answers for one of their assignments (see review_submission_record)."""
    return review_submission_record(
        assignment_id=assignment_id,
        reviewer=reviewer,
        answers=answers,
        corrected_text=corrected_text,
        submission_key=submission_key,
    ).review


@transaction.atomic
def review_submission_record(
    *,
    assignment_id: int,
    reviewer: User,
    answers: dict[str, Any],
    corrected_text: str = "",
    submission_key: uuid.UUID | None = None,
) -> ReviewSubmission:
    """Submit the reviewer's answers for one of their assignments, exactly once per `submission_key`.

    The assignment row is locked first, so two copies of the same submission arriving together
    serialise here and the second finds the review the first made (`created` False): which copy
    created is decided under the lock, never before it. Unsafe and PHI choices in the answers raise
    flags for the curators; the draft is removed; the assignment is marked done.
    """
    from curation.services.flags import item_flag_raise

    assignment = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("project__seed_schema", "project__response_schema", "seed_task", "response")
        .filter(pk=assignment_id, reviewer=reviewer)
        .first()
    )
    if assignment is None:
        raise ValidationError("This item is not assigned to you.")
    if submission_key is not None:
        existing = _submission_of(submission_key=submission_key, reviewer=reviewer)
        if existing is not None:
            return ReviewSubmission(review=existing, created=False)
    if assignment.status == AssignmentStatus.SKIPPED:
        raise ValidationError("You skipped this item; it is no longer yours to review.")
    corrected_text = _correction_kept(
        original=assignment.response.text if assignment.response_id else "", text=corrected_text
    )
    schema = _schema_for(assignment=assignment, reviewer=reviewer, corrected_text=corrected_text)
    # Before the review is recorded, which takes the audit chain's lock (see review_submit).
    ReviewDraft.objects.filter(assignment=assignment).delete()
    review = _review_recorded(
        reviewer=reviewer,
        schema=schema,
        answers=answers,
        seed_task=assignment.seed_task,
        response=assignment.response,
        corrected_text=corrected_text,
        assignment=assignment,
        submission_key=submission_key,
    )
    for kind in review.answers.get(FLAG_ANSWER_FIELD, []) if isinstance(review.answers, dict) else []:
        if kind in FlagKind.values:
            item_flag_raise(
                reviewer=reviewer, seed_task=assignment.seed_task, response=assignment.response, kind=kind, note=""
            )
    return ReviewSubmission(review=review, created=True)


@transaction.atomic
def review_draft_save(*, assignment: Assignment, answers: dict[str, Any], corrected_text: str = "") -> ReviewDraft:
    """Keep what the reviewer has entered so far, unchecked: required fields are checked on submit only.

    Only the form's own field keys are kept. Precondition: the caller got `assignment` through
    access_assignment for the reviewer who owns it.
    """
    # The status as of now, under the write lock: an autosave that arrives just after the submit
    # must not bring back the draft the submit removed.
    status = Assignment.objects.select_for_update().filter(pk=assignment.pk).values_list("status", flat=True).first()
    if status != AssignmentStatus.PENDING:
        raise ValidationError("This item is no longer to do; there is nothing to save a draft for.")
    schema = assignment.project.response_schema if assignment.response_id else assignment.project.seed_schema
    keys = {f["key"] for f in schema.fields} if schema else set()
    kept = {key: value for key, value in answers.items() if key in keys}
    if len(corrected_text) > DRAFT_TEXT_LIMIT or any(
        isinstance(v, str) and len(v) > DRAFT_TEXT_LIMIT for v in kept.values()
    ):
        raise ValidationError(f"A draft field is longer than {DRAFT_TEXT_LIMIT:,} characters.")
    draft, _ = ReviewDraft.objects.select_for_update().get_or_create(assignment=assignment)
    draft.answers = kept
    draft.corrected_text = corrected_text if assignment.response_id else ""
    draft.updated_at = timezone.now()
    draft.save(update_fields=["answers", "corrected_text", "updated_at"])
    return draft
