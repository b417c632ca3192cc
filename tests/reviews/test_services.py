"""The review workspace's rules, stated through its services: assignment, claiming, submitting, drafts, flags."""

import re
import threading
import uuid
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from curation.models import Assignment, AssignmentStatus, ItemFlag, Review, ReviewDraft, TaskStatus
from curation.selectors.reviews import attention_flags, review_progress
from curation.services.assignments import assignment_next, assignment_skip, assignments_create
from curation.services.flags import item_flag_raise
from curation.services.reviews import review_draft_save, review_submit_for_assignment
from curation.services.seed_tasks import seed_task_edit
from tests.factories import (
    AssignmentFactory,
    ClinicianFactory,
    MembershipFactory,
    ModelResponseFactory,
    ProjectFactory,
    SeedTaskFactory,
)
from tests.markers import on_postgres

SEED_ANSWERS = {"decision": "accept", "clinical_validity": 4, "clarity": 5, "difficulty": 2}
RESPONSE_ANSWERS = {
    "correctness": 4,
    "helpfulness": 3,
    "consensus": "aligned",
    "inappropriate_content": "none",
    "missing_content": "minor",
    "harm_extent": "none",
    "harm_likelihood": "low",
    "bias": "no",
}


def members(project, n):
    people = [ClinicianFactory() for _ in range(n)]
    for person in people:
        MembershipFactory(project=project, user=person)
    return people


# --- assignment by a curator ----------------------------------------------------------------------


def test_assignment_gives_each_item_k_distinct_reviewers_balanced_least_loaded_first(project, curator):
    reviewers = members(project, 4)
    busy = reviewers[0]
    for _ in range(3):
        AssignmentFactory(seed_task=SeedTaskFactory(project=project), reviewer=busy)
    tasks = [SeedTaskFactory(project=project) for _ in range(6)]

    result = assignments_create(
        project=project, assigned_by=curator, reviewers=reviewers, k=2, seed_task_ids=[t.pk for t in tasks]
    )

    assert result.created == 12 and result.short == []
    per_item = Counter(a.seed_task_id for a in Assignment.objects.filter(seed_task__in=tasks))
    assert set(per_item.values()) == {2}
    for task in tasks:
        holders = list(Assignment.objects.filter(seed_task=task).values_list("reviewer_id", flat=True))
        assert len(holders) == len(set(holders))
    pending = Counter(Assignment.objects.filter(status="pending").values_list("reviewer_id", flat=True))
    assert max(pending.values()) - min(pending.values()) <= 1, "load is balanced, counting earlier work"


def test_assigning_again_tops_items_up_to_k_and_never_repeats_a_reviewer(project, curator):
    reviewers = members(project, 3)
    task = SeedTaskFactory(project=project)
    assignments_create(project=project, assigned_by=curator, reviewers=reviewers[:1], k=1, seed_task_ids=[task.pk])
    result = assignments_create(project=project, assigned_by=curator, reviewers=reviewers, k=2, seed_task_ids=[task.pk])
    assert result.created == 1
    assert Assignment.objects.filter(seed_task=task).count() == 2


def test_items_that_cannot_reach_k_are_reported_not_dropped(project, curator):
    (only,) = members(project, 1)
    task = SeedTaskFactory(project=project)
    result = assignments_create(project=project, assigned_by=curator, reviewers=[only], k=3, seed_task_ids=[task.pk])
    assert result.created == 1
    assert result.short == [f"task {task.pk} (1 of 3)"]


def test_whoever_edited_a_seed_task_is_not_assigned_to_rate_its_responses(project, curator):
    editor, other = members(project, 2)
    task = SeedTaskFactory(project=project)
    seed_task_edit(task_id=task.pk, editor=editor, expected_version=1, changes={"difficulty": 5}, rationale="harder")
    response = ModelResponseFactory(seed_task=task)

    result = assignments_create(
        project=project, assigned_by=curator, reviewers=[editor, other], k=2, response_ids=[response.pk]
    )

    assert list(Assignment.objects.filter(response=response).values_list("reviewer", flat=True)) == [other.pk]
    assert result.short == [f"response {response.pk} (1 of 2)"]


def test_assignment_refuses_non_members_and_foreign_items_and_changes_nothing(project, curator, outsider):
    (member,) = members(project, 1)
    foreign = SeedTaskFactory(project=ProjectFactory())
    with pytest.raises(ValidationError, match="Not members"):
        assignments_create(project=project, assigned_by=curator, reviewers=[outsider], k=1, seed_task_ids=[])
    with pytest.raises(ValidationError, match=str(foreign.pk)):
        assignments_create(project=project, assigned_by=curator, reviewers=[member], k=1, seed_task_ids=[foreign.pk])
    with pytest.raises(ValidationError, match="between 1 and 20"):
        assignments_create(project=project, assigned_by=curator, reviewers=[member], k=0, seed_task_ids=[])
    assert not Assignment.objects.exists()


# --- the next item --------------------------------------------------------------------------------


def test_next_item_is_my_oldest_pending_assignment(project, clinician):
    first = AssignmentFactory(seed_task=SeedTaskFactory(project=project), reviewer=clinician)
    AssignmentFactory(seed_task=SeedTaskFactory(project=project), reviewer=clinician)
    assert assignment_next(project=project, reviewer=clinician) == first


def test_with_nothing_pending_a_reviewer_claims_an_open_item_never_past_k_never_twice(project):
    project.reviewers_per_item = 2
    project.save(update_fields=["reviewers_per_item"])
    task = SeedTaskFactory(project=project, status=TaskStatus.IN_REVIEW)
    a, b, c = members(project, 3)

    claimed_a = assignment_next(project=project, reviewer=a)
    assert claimed_a.seed_task == task and claimed_a.assigned_by == a
    assert assignment_next(project=project, reviewer=a) == claimed_a, "the pending one again, not a second claim"
    assert assignment_next(project=project, reviewer=b).seed_task == task
    assert assignment_next(project=project, reviewer=c) is None, "the task already has k reviewers"

    assignment_skip(assignment=claimed_a)
    assert assignment_next(project=project, reviewer=a) is None, "a reviewer never gets a skipped item back"
    assert assignment_next(project=project, reviewer=c).seed_task == task, "a skipped place reopens"


def test_a_claim_after_a_curators_assignment_starts_its_scan_where_the_curator_stopped(project, curator):
    # Tasks the curator filled to k come first in id order; a claim must not read them all to find an open one
    # (at a million tasks that read took 1.7 s per claim): it starts at the latest assignment's item.
    project.reviewers_per_item = 1
    project.save(update_fields=["reviewers_per_item"])
    filled = [SeedTaskFactory(project=project, status=TaskStatus.IN_REVIEW) for _ in range(3)]
    open_task = SeedTaskFactory(project=project, status=TaskStatus.IN_REVIEW)
    reviewer, claimer = members(project, 2)
    assignments_create(
        project=project, assigned_by=curator, reviewers=[reviewer], k=1, seed_task_ids=[t.pk for t in filled]
    )

    with CaptureQueriesContext(connection) as captured:
        claimed = assignment_next(project=project, reviewer=claimer)

    assert claimed.seed_task == open_task
    scans = [q["sql"] for q in captured if re.search(r'"curation_seedtask"\."id" (>=|<) \d', q["sql"])]
    assert scans and f'"curation_seedtask"."id" >= {filled[-1].pk}' in scans[0]


def test_a_claim_wraps_around_to_an_item_below_the_latest_assignment_that_reopened(project, curator):
    project.reviewers_per_item = 1
    project.save(update_fields=["reviewers_per_item"])
    tasks = [SeedTaskFactory(project=project, status=TaskStatus.IN_REVIEW) for _ in range(3)]
    reviewer, claimer = members(project, 2)
    assignments_create(
        project=project, assigned_by=curator, reviewers=[reviewer], k=1, seed_task_ids=[t.pk for t in tasks]
    )
    assignment_skip(assignment=Assignment.objects.get(seed_task=tasks[0]))

    assert assignment_next(project=project, reviewer=claimer).seed_task == tasks[0]


def test_claiming_skips_responses_to_a_task_the_reviewer_edited(project):
    editor, other = members(project, 2)
    # A rejected task stays rejected when edited, so the only open item is its response.
    task = SeedTaskFactory(project=project, status=TaskStatus.REJECTED)
    response = ModelResponseFactory(seed_task=task)
    seed_task_edit(task_id=task.pk, editor=editor, expected_version=1, changes={"difficulty": 1}, rationale="easy")
    assert assignment_next(project=project, reviewer=editor) is None
    assert assignment_next(project=project, reviewer=other).response == response


def test_editing_a_task_in_the_workspace_hands_back_my_ratings_of_its_responses(project, clinician):
    task = SeedTaskFactory(project=project)
    rating = AssignmentFactory(seed_task=None, response=ModelResponseFactory(seed_task=task), reviewer=clinician)
    seed_task_edit(
        task_id=task.pk, editor=clinician, expected_version=1, changes={"difficulty": 4}, rationale="two steps"
    )
    rating.refresh_from_db()
    assert rating.status == AssignmentStatus.SKIPPED


def test_an_editor_cannot_submit_a_rating_of_a_response_to_the_task_they_edited(project, clinician):
    task = SeedTaskFactory(project=project)
    rating = AssignmentFactory(seed_task=None, response=ModelResponseFactory(seed_task=task), reviewer=clinician)
    seed_task_edit(task_id=task.pk, editor=clinician, expected_version=1, changes={"difficulty": 4}, rationale="x")
    # Even if the rating is handed to them again by hand, the submission itself is refused.
    Assignment.objects.filter(pk=rating.pk).update(status=AssignmentStatus.PENDING)
    with pytest.raises(ValidationError, match="edited the seed task"):
        review_submit_for_assignment(assignment_id=rating.pk, reviewer=clinician, answers=RESPONSE_ANSWERS)
    assert not Review.objects.exists()


def _in_threads(n, work):
    """Run work(i) in n threads released together; each thread uses and closes its own connection."""
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_reviewers_asking_at_once_never_push_an_item_past_k():
    assert connection.vendor == "postgresql"
    project = ProjectFactory(reviewers_per_item=3)
    tasks = [SeedTaskFactory(project=project, status=TaskStatus.IN_REVIEW) for _ in range(12)]
    reviewers = members(project, 50)

    claimed = _in_threads(50, lambda i: assignment_next(project=project, reviewer=reviewers[i]))

    per_item = Counter(Assignment.objects.filter(project=project).values_list("seed_task_id", flat=True))
    assert max(per_item.values()) <= 3
    assert sum(per_item.values()) == 36 == sum(1 for a in claimed if a is not None), "every place was taken once"
    assert set(per_item) == {t.pk for t in tasks}


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_submission_arriving_ten_times_at_once_makes_one_review():
    project = ProjectFactory()
    (reviewer,) = members(project, 1)
    assignment = AssignmentFactory(seed_task=SeedTaskFactory(project=project), reviewer=reviewer)
    key = uuid.uuid4()

    reviews = _in_threads(
        10,
        lambda i: review_submit_for_assignment(
            assignment_id=assignment.pk, reviewer=reviewer, answers=SEED_ANSWERS, submission_key=key
        ),
    )

    assert Review.objects.count() == 1
    assert {r.pk for r in reviews} == {Review.objects.get().pk}


# --- submitting -----------------------------------------------------------------------------------


def test_a_double_click_or_a_retry_makes_one_review_and_marks_the_assignment_done(project, clinician):
    assignment = AssignmentFactory(seed_task=SeedTaskFactory(project=project), reviewer=clinician)
    review_draft_save(assignment=assignment, answers={"clarity": 3})
    key = uuid.uuid4()
    first = review_submit_for_assignment(
        assignment_id=assignment.pk, reviewer=clinician, answers=SEED_ANSWERS, submission_key=key
    )
    again = review_submit_for_assignment(
        assignment_id=assignment.pk, reviewer=clinician, answers=SEED_ANSWERS, submission_key=key
    )
    assert first == again and Review.objects.count() == 1
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.DONE and assignment.completed_at is not None
    assert not ReviewDraft.objects.exists(), "the draft goes once the review is in"
    assert review_progress(user=clinician, project=project) == {"pending": 0, "done": 1, "skipped": 0, "assigned": 1}


def test_a_submit_takes_the_audit_chain_last_so_concurrent_submits_wait_only_for_its_commit(project, clinician):
    # Every submit locks the one chain-head row until it commits: any write after the lock lengthens
    # the queue of every other reviewer's submit.
    assignment = AssignmentFactory(seed_task=SeedTaskFactory(project=project), reviewer=clinician)
    review_draft_save(assignment=assignment, answers={"clarity": 3})
    with CaptureQueriesContext(connection) as queries:
        review_submit_for_assignment(assignment_id=assignment.pk, reviewer=clinician, answers=SEED_ANSWERS)
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    locked = max(i for i, sql in enumerate(statements) if sql.startswith("SELECT") and "audit_auditchainhead" in sql)
    after = [sql.split("(")[0].split(" SET ")[0].replace('"', "").strip() for sql in statements[locked + 1 :]]
    assert after == ["INSERT INTO audit_auditevent", "UPDATE audit_auditchainhead"]
    assert not ReviewDraft.objects.exists() and Review.objects.get().assignment_id == assignment.pk
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.DONE


def test_a_new_submission_of_a_done_item_is_a_new_version(project, clinician):
    assignment = AssignmentFactory(seed_task=SeedTaskFactory(project=project), reviewer=clinician)
    review_submit_for_assignment(assignment_id=assignment.pk, reviewer=clinician, answers=SEED_ANSWERS)
    second = review_submit_for_assignment(
        assignment_id=assignment.pk, reviewer=clinician, answers={**SEED_ANSWERS, "clarity": 2}
    )
    assert second.version == 2 and Review.objects.filter(is_current=True).get() == second


def test_required_fields_are_enforced_on_the_server_and_nothing_changes(project, clinician):
    assignment = AssignmentFactory(seed_task=SeedTaskFactory(project=project), reviewer=clinician)
    with pytest.raises(ValidationError) as problem:
        review_submit_for_assignment(
            assignment_id=assignment.pk, reviewer=clinician, answers={"decision": "accept", "clarity": 9}
        )
    errors = problem.value.message_dict
    assert errors["clinical_validity"] == ["is required"]
    assert errors["clarity"] == ["must be a whole number from 1 to 5"]
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.PENDING and not Review.objects.exists()


def test_nobody_submits_on_someone_elses_assignment(project, clinician):
    assignment = AssignmentFactory(seed_task=SeedTaskFactory(project=project))
    with pytest.raises(ValidationError, match="not assigned to you"):
        review_submit_for_assignment(assignment_id=assignment.pk, reviewer=clinician, answers=SEED_ANSWERS)


def test_a_submission_key_cannot_be_reused_by_another_reviewer(project, clinician):
    mine = AssignmentFactory(seed_task=SeedTaskFactory(project=project), reviewer=clinician)
    theirs = AssignmentFactory(seed_task=mine.seed_task)
    key = uuid.uuid4()
    review_submit_for_assignment(assignment_id=mine.pk, reviewer=clinician, answers=SEED_ANSWERS, submission_key=key)
    with pytest.raises(ValidationError, match="another submission"):
        review_submit_for_assignment(
            assignment_id=theirs.pk, reviewer=theirs.reviewer, answers=SEED_ANSWERS, submission_key=key
        )


def test_a_response_review_keeps_the_corrected_text(project, clinician):
    response = ModelResponseFactory(seed_task=SeedTaskFactory(project=project))
    assignment = AssignmentFactory(seed_task=None, response=response, reviewer=clinician)
    review = review_submit_for_assignment(
        assignment_id=assignment.pk,
        reviewer=clinician,
        answers=RESPONSE_ANSWERS,
        corrected_text="Hypertension is blood pressure persistently at or above 130/80 mmHg.",
    )
    assert review.schema == project.response_schema and review.response == response
    assert review.corrected_text.startswith("Hypertension is blood pressure")


# --- drafts and flags -----------------------------------------------------------------------------


def test_a_draft_keeps_partial_answers_of_the_form_only(project, clinician):
    assignment = AssignmentFactory(seed_task=SeedTaskFactory(project=project), reviewer=clinician)
    review_draft_save(assignment=assignment, answers={"clarity": 2, "comment": "half done", "smuggled": "x"})
    review_draft_save(assignment=assignment, answers={"clarity": 3, "comment": "half done"})
    draft = ReviewDraft.objects.get(assignment=assignment)
    assert draft.answers == {"clarity": 3, "comment": "half done"}


def test_unsafe_and_phi_flags_reach_the_attention_list_and_specialist_flags_do_not(project, clinician):
    task = SeedTaskFactory(project=project)
    assignment = AssignmentFactory(seed_task=task, reviewer=clinician)
    review_submit_for_assignment(
        assignment_id=assignment.pk,
        reviewer=clinician,
        answers={**SEED_ANSWERS, "flags": ["unsafe", "needs_specialist"]},
    )
    response = ModelResponseFactory(seed_task=task)
    item_flag_raise(reviewer=clinician, response=response, kind="phi", note="names a patient")
    item_flag_raise(reviewer=clinician, response=response, kind="phi", note="names a patient")

    assert ItemFlag.objects.count() == 3, "the same open flag twice is one flag"
    assert sorted(f.kind for f in attention_flags(project=project)) == ["phi", "unsafe"]


def test_a_flag_of_an_unknown_kind_is_refused(project, clinician, task):
    with pytest.raises(ValidationError, match="must be one of"):
        item_flag_raise(reviewer=clinician, seed_task=task, kind="boring")
    assert not ItemFlag.objects.exists()
