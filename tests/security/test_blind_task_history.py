"""A task's history names who edited it and why; to a clinician still reviewing the task that is another
reviewer's part, so it stays hidden until they submit, and then as long as the project keeps others'
reviews hidden. Curators see all of it, and the reviewer always sees their own edits."""

import pytest
from django.urls import reverse

from curation.models import ReviewVisibility, TaskStatus
from curation.services.reviews import review_submit_for_assignment
from curation.services.seed_tasks import seed_task_edit
from tests.factories import AssignmentFactory, ClinicianFactory, MembershipFactory, SeedTaskFactory

SEED_ANSWERS = {"decision": "accept", "clinical_validity": 4, "clarity": 5, "difficulty": 2}
THEIR_WHY = "Their reason: the dose was wrong"
MY_WHY = "My reason: clearer wording"


@pytest.fixture
def edited(project, clinician):
    """A task `clinician` is reviewing, edited by another reviewer and then by `clinician`."""
    other = ClinicianFactory(name="Dr Other Editor")
    MembershipFactory(project=project, user=other)
    task = SeedTaskFactory(project=project, status=TaskStatus.IN_REVIEW)
    mine = AssignmentFactory(project=project, seed_task=task, reviewer=clinician)
    seed_task_edit(task_id=task.pk, editor=other, expected_version=1, changes={"difficulty": 1}, rationale=THEIR_WHY)
    seed_task_edit(task_id=task.pk, editor=clinician, expected_version=2, changes={"difficulty": 2}, rationale=MY_WHY)
    return task, mine


def _history_page(client, user, task) -> str:
    client.force_login(user)
    return client.get(reverse("task_detail", args=[task.project.slug, task.pk])).content.decode()


def test_before_submitting_a_reviewer_sees_their_own_edits_but_not_who_else_edited_or_why(client, clinician, edited):
    task, _ = edited
    page = _history_page(client, clinician, task)
    assert MY_WHY in page
    assert THEIR_WHY not in page and "Dr Other Editor" not in page


@pytest.mark.parametrize(
    ("visibility", "shown"), [(ReviewVisibility.AFTER_SUBMIT, True), (ReviewVisibility.AFTER_ADJUDICATION, False)]
)
def test_after_submitting_the_projects_visibility_decides(client, project, clinician, edited, visibility, shown):
    task, mine = edited
    project.review_visibility = visibility
    project.save(update_fields=["review_visibility"])
    review_submit_for_assignment(assignment_id=mine.pk, reviewer=clinician, answers=SEED_ANSWERS)
    page = _history_page(client, clinician, task)
    assert (THEIR_WHY in page, "Dr Other Editor" in page) == (shown, shown)


def test_curators_and_members_not_reviewing_the_task_see_the_whole_history(client, project, curator, edited):
    task, _ = edited
    bystander = ClinicianFactory()
    MembershipFactory(project=project, user=bystander)
    for user in (curator, bystander):
        page = _history_page(client, user, task)
        assert THEIR_WHY in page and "Dr Other Editor" in page
