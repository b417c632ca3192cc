"""Acceptance is a decision about one revision of a task: an edit after it is unreviewed, so it sends the
task back to review (or is refused, if the project says so), and no release carries it until a curator
accepts the task again. Who may edit at all is the project's setting, enforced for every way of editing."""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from curation.models import AcceptanceAction, AcceptedTaskEdits, ReleaseStatus, SeedTask, TaskEditors, TaskStatus
from curation.services.assignments import assignment_next
from curation.services.dataset_decisions import seed_task_decide
from curation.services.releases import release_build, release_create
from curation.services.seed_tasks import seed_task_edit
from tests.factories import AssignmentFactory, ClinicianFactory, MembershipFactory, SeedTaskFactory

ACCEPTED_TEXT = "Start with a thiazide or an ACE inhibitor; recheck in four weeks."
UNREVIEWED_TEXT = "Stop all antihypertensives before any procedure."


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def accepted(project, curator):
    """A task a curator accepted, through the adjudication decision."""
    task = SeedTaskFactory(project=project, status=TaskStatus.IN_REVIEW, reference_output=ACCEPTED_TEXT)
    SeedTaskFactory(project=project, status=TaskStatus.ACCEPTED)  # keeps the release non-empty
    seed_task_decide(task=task, actor=curator, action=AcceptanceAction.ACCEPT)
    return SeedTask.objects.get(pk=task.pk)


def _edit_form(task: SeedTask, **changes) -> dict:
    fields = ("instruction", "input", "reference_output", "topic_raw", "view_raw", "task_type_raw", "difficulty")
    return {
        **{f: getattr(task, f) or "" for f in fields},
        **changes,
        "rationale": "Safer advice",
        "version": str(task.version),
    }


def _default_release(project) -> list[dict]:
    """The rows of the project's default release (alpaca, accepted tasks) built now."""
    release = release_build(
        release_id=release_create(project=project, created_by=None, format="alpaca", enqueue=False).pk
    )
    assert release.status == ReleaseStatus.SUCCEEDED, release.error
    text = (Path(settings.MEDIA_ROOT) / release.file_path).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_an_unassigned_clinicians_edit_of_an_accepted_task_never_reaches_the_next_release(
    client, project, clinician, curator, accepted
):
    client.force_login(clinician)
    url = reverse("task_edit", args=[project.slug, accepted.pk])
    assert client.post(url, _edit_form(accepted, reference_output=UNREVIEWED_TEXT)).status_code == 302

    task = SeedTask.objects.get(pk=accepted.pk)
    assert task.reference_output == UNREVIEWED_TEXT
    assert task.status == TaskStatus.IN_REVIEW, "an edit is a new revision, and it goes back to review"
    rows = _default_release(project)
    assert all(UNREVIEWED_TEXT not in row["output"] for row in rows)
    assert all(ACCEPTED_TEXT not in row["output"] for row in rows), "the task is out until accepted again"

    seed_task_decide(task=task, actor=curator, action=AcceptanceAction.ACCEPT)
    assert UNREVIEWED_TEXT in [row["output"] for row in _default_release(project)]


def test_a_release_takes_an_accepted_task_only_at_the_version_accepted(project, accepted):
    # A revision that bypassed the edit service (a script, the admin) is not what the curator accepted.
    SeedTask.objects.filter(pk=accepted.pk).update(reference_output=UNREVIEWED_TEXT, version=accepted.version + 1)
    outputs = [row["output"] for row in _default_release(project)]
    assert UNREVIEWED_TEXT not in outputs and ACCEPTED_TEXT not in outputs


def test_a_project_may_refuse_edits_of_accepted_tasks(client, project, clinician, accepted):
    project.accepted_task_edits = AcceptedTaskEdits.REFUSE
    project.save(update_fields=["accepted_task_edits"])
    with pytest.raises(ValidationError, match="does not allow editing accepted tasks"):
        seed_task_edit(
            task_id=accepted.pk,
            editor=clinician,
            expected_version=accepted.version,
            changes={"reference_output": UNREVIEWED_TEXT},
            rationale="Safer advice",
        )
    client.force_login(clinician)
    url = reverse("task_edit", args=[project.slug, accepted.pk])
    page = client.post(url, _edit_form(accepted, reference_output=UNREVIEWED_TEXT))
    assert "does not allow editing accepted tasks" in page.content.decode()
    task = SeedTask.objects.get(pk=accepted.pk)
    assert (task.status, task.reference_output) == (TaskStatus.ACCEPTED, ACCEPTED_TEXT)
    assert ACCEPTED_TEXT in [row["output"] for row in _default_release(project)]


def test_when_only_assigned_reviewers_may_edit_an_unassigned_member_is_refused_by_page_and_service(
    client, project, clinician, task
):
    project.task_editors = TaskEditors.ASSIGNED
    project.save(update_fields=["task_editors"])
    client.force_login(clinician)
    url = reverse("task_edit", args=[project.slug, task.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, _edit_form(task, difficulty="5")).status_code == 403
    with pytest.raises(PermissionDenied, match="assigned"):
        seed_task_edit(
            task_id=task.pk, editor=clinician, expected_version=1, changes={"difficulty": 5}, rationale="harder"
        )
    assert SeedTask.objects.get(pk=task.pk).version == 1


def test_when_only_assigned_reviewers_may_edit_the_assigned_reviewer_and_curators_may(project, curator, task):
    project.task_editors = TaskEditors.ASSIGNED
    project.save(update_fields=["task_editors"])
    reviewer = ClinicianFactory()
    MembershipFactory(project=project, user=reviewer)
    AssignmentFactory(project=project, reviewer=reviewer, seed_task=task)
    seed_task_edit(task_id=task.pk, editor=reviewer, expected_version=1, changes={"difficulty": 5}, rationale="a")
    seed_task_edit(task_id=task.pk, editor=curator, expected_version=2, changes={"difficulty": 4}, rationale="b")
    assert SeedTask.objects.get(pk=task.pk).difficulty == 4


def test_someone_outside_the_project_cannot_edit_its_tasks_through_the_service(outsider, task):
    with pytest.raises(PermissionDenied):
        seed_task_edit(task_id=task.pk, editor=outsider, expected_version=1, changes={"difficulty": 5}, rationale="x")


def test_an_edited_accepted_task_is_reviewed_again_by_someone_other_than_its_editor(project, clinician, accepted):
    other = ClinicianFactory()
    MembershipFactory(project=project, user=other)
    seed_task_edit(
        task_id=accepted.pk,
        editor=clinician,
        expected_version=accepted.version,
        changes={"reference_output": UNREVIEWED_TEXT},
        rationale="Safer advice",
    )
    assert assignment_next(project=project, reviewer=clinician) is None
    assert assignment_next(project=project, reviewer=other).seed_task_id == accepted.pk
