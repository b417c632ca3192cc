"""A reviewer's counts of assignments (to do, done, skipped) follow every path that makes an assignment or
changes its status, so the dashboard, the queue and the assign page can read them instead of counting."""

import uuid

from django.urls import reverse

from curation.models import AdjudicationSettings, Assignment, DisagreementRule, TaskStatus
from curation.services.members import project_member_remove
from curation.services.reviews import review_submit
from curation.services.seed_tasks import seed_task_edit
from tests.counts import assert_counts_true, kept_counts
from tests.factories import (
    AssignmentFactory,
    ClinicianFactory,
    MembershipFactory,
    ModelResponseFactory,
    SeedTaskFactory,
)
from tests.reviews.test_services import SEED_ANSWERS


def _member(project, **fields):
    user = ClinicianFactory(**fields)
    MembershipFactory(project=project, user=user)
    return user


def _form(**extra) -> dict:
    return {**{f"a-{key}": value for key, value in SEED_ANSWERS.items()}, "submission_key": str(uuid.uuid4()), **extra}


def test_a_curators_batch_counts_each_reviewers_new_items(client, project, clinician, curator):
    colleague = _member(project)
    tasks = SeedTaskFactory.create_batch(3, project=project)
    client.force_login(curator)

    response = client.post(
        reverse("assign", args=[project.slug]),
        {
            "kind": "seed_task",
            "selection": " ".join(str(t.pk) for t in tasks),
            "reviewers": [clinician.pk, colleague.pk],
            "k": 2,
            "limit": 100,
        },
    )

    assert response.status_code == 302
    assert kept_counts(project)["assignments"] == {clinician.pk: (3, 0, 0), colleague.pk: (3, 0, 0)}
    page = client.get(reverse("assign", args=[project.slug]))
    assert {m.user_id: (m.pending, m.done) for m in page.context["reviewers"]} == {
        clinician.pk: (3, 0),
        colleague.pk: (3, 0),
    }


def test_claiming_submitting_and_skipping_move_the_reviewers_counts(client, project, clinician):
    SeedTaskFactory.create_batch(3, project=project, status=TaskStatus.IN_REVIEW)
    client.force_login(clinician)
    next_url = reverse("review_next", args=[project.slug])

    first = client.post(next_url)["Location"]  # claims an open item
    assert kept_counts(project)["assignments"] == {clinician.pk: (1, 0, 0)}
    second = client.post(first, _form())["Location"]  # submits it and claims the next
    assert kept_counts(project)["assignments"] == {clinician.pk: (1, 1, 0)}
    client.post(second.rstrip("/") + "/skip/")  # skips it and claims the third
    assert kept_counts(project)["assignments"] == {clinician.pk: (1, 1, 1)}
    assert_counts_true(project)
    queue = client.get(reverse("review_queue", args=[project.slug]))
    assert queue.context["progress"] == {"pending": 1, "done": 1, "skipped": 1, "assigned": 2}


def test_a_submit_through_the_api_counts_the_item_done(client, project, clinician):
    task = SeedTaskFactory(project=project, status=TaskStatus.IN_REVIEW)
    client.force_login(clinician)
    claimed = client.post(reverse("api_review_next", args=[project.slug])).json()
    assert Assignment.objects.get(pk=claimed["assignment"]).seed_task == task

    client.post(
        reverse("api_review_submit", args=[project.slug]),
        {"assignment": claimed["assignment"], "answers": SEED_ANSWERS, "submission_key": str(uuid.uuid4())},
        content_type="application/json",
    )

    assert kept_counts(project)["assignments"] == {clinician.pk: (0, 1, 0)}


def test_editing_a_task_gives_back_the_editors_pending_ratings_of_its_responses(project, clinician):
    task = SeedTaskFactory(project=project)
    response = ModelResponseFactory(seed_task=task)
    AssignmentFactory(seed_task=None, response=response, reviewer=clinician)
    assert kept_counts(project)["assignments"] == {clinician.pk: (1, 0, 0)}

    seed_task_edit(task_id=task.pk, editor=clinician, expected_version=1, changes={"difficulty": 5}, rationale="harder")

    assert kept_counts(project)["assignments"] == {clinician.pk: (0, 0, 1)}
    assert_counts_true(project)


def test_taking_a_member_off_the_project_counts_their_open_items_as_given_back(client, project, clinician, curator):
    SeedTaskFactory.create_batch(2, project=project, status=TaskStatus.IN_REVIEW)
    client.force_login(clinician)
    client.post(reverse("review_next", args=[project.slug]))

    assert project_member_remove(project=project, user=clinician) == 1

    assert kept_counts(project)["assignments"] == {clinician.pk: (0, 0, 1)}
    assert_counts_true(project)


def test_an_extra_reviewer_for_a_disagreement_is_counted(project, clinician):
    AdjudicationSettings.objects.update_or_create(
        project=project, defaults={"rule": DisagreementRule.SPREAD, "min_spread": 2, "dynamic_overlap": True}
    )
    first, second, spare = _member(project), _member(project), _member(project)
    task = SeedTaskFactory(project=project)
    for reviewer, validity in ((first, 1), (second, 5)):
        review_submit(
            reviewer=reviewer,
            schema=project.seed_schema,
            seed_task=task,
            answers={**SEED_ANSWERS, "clinical_validity": validity},
        )

    [extra] = Assignment.objects.filter(seed_task=task)
    assert extra.reviewer in (clinician, spare)
    assert kept_counts(project)["assignments"] == {extra.reviewer_id: (1, 0, 0)}


def test_the_admin_recounts_the_projects_whose_assignments_or_tasks_it_changed_or_deleted(
    client, project, clinician, admin_user
):
    from django.contrib.admin.sites import site

    from curation.models import SeedTask

    tasks = SeedTaskFactory.create_batch(3, project=project)
    assignments = [AssignmentFactory(seed_task=task, reviewer=clinician) for task in tasks]
    client.force_login(admin_user)

    # A status changed by hand in the admin's form.
    assignments[0].status = "done"
    site._registry[Assignment].save_model(None, assignments[0], None, change=True)
    assert kept_counts(project)["assignments"] == {clinician.pk: (2, 1, 0)}
    # A task deleted from its admin page takes its assignment with it.
    deleted = client.post(reverse("admin:curation_seedtask_delete", args=[tasks[1].pk]), {"post": "yes"})
    assert deleted.status_code == 302 and not SeedTask.objects.filter(pk=tasks[1].pk).exists()
    assert_counts_true(project)
    # Assignments deleted from the list with the admin's action.
    client.post(
        reverse("admin:curation_assignment_changelist"),
        {"action": "delete_selected", "_selected_action": [assignments[2].pk], "post": "yes"},
    )
    assert kept_counts(project)["assignments"] == {clinician.pk: (0, 1, 0)}
    assert_counts_true(project)
