"""Curators create a project in the app, change its settings and archive it, without the Django admin."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from curation.models import AdjudicationSettings, Project, ReviewVisibility
from curation.schemas.defaults import RESPONSE_REVIEW, SEED_REVIEW
from curation.services.assignments import assignment_next, assignments_create
from curation.services.imports import import_job_create
from curation.services.projects import project_archive, rating_form_update
from tests.factories import SeedTaskFactory

NEW = {
    "name": "Nephrology seeds",
    "slug": "nephro",
    "description": "Kidney questions",
    "guidelines": "# Read the labs\n\nCheck **eGFR** first.",
    "reviewers_per_item": 3,
    "review_visibility": ReviewVisibility.AFTER_SUBMIT,
    "rule": "any",
    "min_spread": 2,
    "dynamic_overlap": "on",
}


def test_a_curator_creates_a_project_with_its_forms_settings_and_overlap_policy(client, curator):
    client.force_login(curator)

    response = client.post(reverse("project_create"), NEW)

    assert response.status_code == 302 and response.url == reverse("member_list", args=["nephro"])
    project = Project.objects.get(slug="nephro")
    assert (project.name, project.reviewers_per_item, project.review_visibility) == (
        "Nephrology seeds",
        3,
        ReviewVisibility.AFTER_SUBMIT,
    )
    assert project.guidelines.startswith("# Read the labs") and project.guidelines_version == 1
    assert project.seed_schema.definition == SEED_REVIEW and project.response_schema.definition == RESPONSE_REVIEW
    assert project.memberships.filter(user=curator).exists()
    overlap = AdjudicationSettings.objects.get(project=project)
    assert (overlap.rule, overlap.dynamic_overlap) == ("any", True)
    assert "Nephrology seeds" in client.get(reverse("dashboard")).content.decode()


def test_a_new_project_copies_the_forms_of_the_project_it_is_made_from(client, curator, project):
    custom = {"fields": [{"key": "verdict", "label": "Verdict", "kind": "ordinal_scale", "min": 1, "max": 3}]}
    rating_form_update(project=project, target="response", definition=custom, actor=curator)
    client.force_login(curator)

    client.post(reverse("project_create"), {**NEW, "template": project.pk})

    copy = Project.objects.get(slug="nephro")
    assert copy.response_schema.definition == custom and copy.response_schema.version == 1
    assert copy.response_schema.project == copy  # its own form, not the template's row


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"slug": "cardio"}, "slug", "already exists"),
        ({"slug": "new"}, "slug", "address of a page"),
        ({"reviewers_per_item": 0}, "reviewers_per_item", "from 1 to 20"),
        ({"name": ""}, "name", "required"),
        ({"min_spread": 0}, "min_spread", "greater than or equal to 1"),
    ],
)
def test_a_refused_project_names_the_field_and_creates_nothing(client, curator, project, change, field, message):
    client.force_login(curator)

    response = client.post(reverse("project_create"), {**NEW, **change})

    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not Project.objects.exclude(pk=project.pk).exists()


def test_the_guidelines_preview_renders_markdown_without_raw_html(client, curator):
    client.force_login(curator)

    fragment = client.post(
        reverse("guidelines_preview"), {"guidelines": "# Heading\n\n**bold** <script>alert(1)</script>"}
    ).content.decode()

    assert "<h1>Heading</h1>" in fragment and "<strong>bold</strong>" in fragment
    assert "<script>" not in fragment


def _settings(project, **changes):
    return {
        "name": project.name,
        "description": project.description,
        "guidelines": project.guidelines,
        "reviewers_per_item": project.reviewers_per_item,
        "review_visibility": project.review_visibility,
        "task_editors": project.task_editors,
        "accepted_task_edits": project.accepted_task_edits,
        "rule": "spread",
        "min_spread": 2,
        **changes,
    }


def test_editing_the_guidelines_bumps_their_version_and_other_settings_do_not(client, curator, project):
    client.force_login(curator)
    url = reverse("project_settings", args=[project.slug])

    client.post(url, _settings(project, reviewers_per_item=4))
    project.refresh_from_db()
    assert (project.reviewers_per_item, project.guidelines_version) == (4, 1)

    client.post(url, _settings(project, guidelines="# New rule\n\nAsk about allergies."))
    project.refresh_from_db()
    assert (project.guidelines, project.guidelines_version) == ("# New rule\n\nAsk about allergies.", 2)


def test_the_settings_page_sets_who_may_edit_tasks_and_what_an_edit_of_an_accepted_task_does(client, curator, project):
    client.force_login(curator)
    url = reverse("project_settings", args=[project.slug])
    assert "Who may edit a seed task" in client.get(url).content.decode()

    client.post(url, _settings(project, task_editors="assigned", accepted_task_edits="refuse"))

    project.refresh_from_db()
    assert (project.task_editors, project.accepted_task_edits) == ("assigned", "refuse")


def test_the_settings_page_changes_the_overlap_policy(client, curator, project):
    client.force_login(curator)

    client.post(
        reverse("project_settings", args=[project.slug]),
        _settings(project, rule="spread", min_spread=3, dynamic_overlap="on"),
    )

    overlap = AdjudicationSettings.objects.get(project=project)
    assert (overlap.rule, overlap.min_spread, overlap.dynamic_overlap) == ("spread", 3, True)


def test_an_archived_project_leaves_the_dashboard_but_stays_readable(client, curator, project):
    task = SeedTaskFactory(project=project)
    client.force_login(curator)

    page = client.post(reverse("project_archive", args=[project.slug]), follow=True).content.decode()
    assert "takes no new assignments or imports" in page

    project.refresh_from_db()
    assert project.archived_at is not None
    assert project.name not in client.get(reverse("dashboard")).content.decode()
    assert project.name in client.get(reverse("project_archived_list")).content.decode()
    assert client.get(reverse("task_detail", args=[project.slug, task.pk])).status_code == 200


def test_an_archived_project_refuses_new_assignments_and_imports(project, curator, clinician):
    task = SeedTaskFactory(project=project, status="in_review")
    project_archive(project=project, actor=curator)

    with pytest.raises(ValidationError, match="archived"):
        assignments_create(project=project, assigned_by=curator, reviewers=[clinician], k=1, seed_task_ids=[task.pk])
    assert assignment_next(project=project, reviewer=clinician) is None
    with pytest.raises(ValidationError, match="archived"):
        import_job_create(project=project, upload=SimpleUploadedFile("seed.json", b"[]"), created_by=curator)


def test_unarchiving_puts_the_project_back_to_work(client, project, curator, clinician):
    task = SeedTaskFactory(project=project, status="in_review")
    project_archive(project=project, actor=curator)
    client.force_login(curator)

    client.post(reverse("project_unarchive", args=[project.slug]))

    project.refresh_from_db()
    assert project.archived_at is None
    assert assignment_next(project=project, reviewer=clinician).seed_task == task


def test_the_dashboard_offers_new_project_to_curators_only(client, curator, clinician):
    client.force_login(curator)
    assert reverse("project_create") in client.get(reverse("dashboard")).content.decode()
    client.force_login(clinician)
    assert reverse("project_create") not in client.get(reverse("dashboard")).content.decode()


def test_a_clinician_cannot_create_a_project(client, clinician):
    client.force_login(clinician)

    assert client.post(reverse("project_create"), NEW).status_code == 403
    assert not Project.objects.filter(slug="nephro").exists()


def test_archiving_twice_keeps_the_first_date(project, curator):
    first = project_archive(project=project, actor=curator).archived_at

    again = project_archive(project=Project.objects.get(pk=project.pk), actor=curator)

    assert again.archived_at == first
