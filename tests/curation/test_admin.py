"""The Django admin: every registered model's list and one record open for an admin, the records
that services write (reviews, judgments, releases, gold labels, audits, rounds) cannot be added or
changed there, and a seed task edited there is left as the app's own edits leave it."""

import os

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.forms.models import model_to_dict
from django.urls import reverse

from curation.admin import ViewOnly
from curation.models import SeedTask
from curation.models.phi import PhiFinding, PhiScan
from curation.selectors.seed_tasks import seed_tasks_matching
from curation.services.phi import phi_scan_now
from curation.services.seed_task_search import seed_task_search_catch_up
from curation.services.seed_tasks import seed_task_create
from curation.text.hashing import content_hash


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = True
    with open(os.devnull, "w") as quiet:
        call_command("load_demo", stdout=quiet)


def _admin_urls(model, name):
    return f"admin:{model._meta.app_label}_{model._meta.model_name}_{name}"


def test_every_admin_list_and_a_record_of_it_open_for_an_admin(client, admin_user, demo):
    client.force_login(admin_user)
    opened = []
    for model in admin.site._registry:
        assert client.get(reverse(_admin_urls(model, "changelist"))).status_code == 200, model
        record = model.objects.order_by("pk").first()
        if record is not None:
            assert client.get(reverse(_admin_urls(model, "change"), args=[record.pk])).status_code == 200, model
            opened.append(model._meta.model_name)
    assert {"evaluationround", "judgment", "review", "seedtask"} <= set(opened)


def test_records_written_by_services_cannot_be_added_or_changed_in_the_admin(client, admin_user, demo):
    client.force_login(admin_user)
    view_only = [model for model, model_admin in admin.site._registry.items() if isinstance(model_admin, ViewOnly)]
    assert {m._meta.model_name for m in view_only} >= {"review", "judgment", "evaluationround", "release"}
    for model in view_only:
        assert client.get(reverse(_admin_urls(model, "add"))).status_code == 403, model
        record = model.objects.order_by("pk").first()
        if record is not None:
            response = client.post(reverse(_admin_urls(model, "change"), args=[record.pk]), {})
            assert response.status_code == 403, model


def _saved_in_the_admin(client, task, **changes):
    """POST the task's admin change form as it stands, with `changes` typed over it."""
    fields = {name: "" if value is None else value for name, value in model_to_dict(task).items()}
    response = client.post(reverse(_admin_urls(SeedTask, "change"), args=[task.pk]), {**fields, **changes})
    assert response.status_code == 302, response.content.decode()[:2000]
    return SeedTask.objects.get(pk=task.pk)


def test_texts_edited_in_the_admin_are_rehashed_found_by_their_new_words_and_scanned(client, admin_user, project):
    task = seed_task_create(project=project, instruction="Name two loop diuretics.")
    client.force_login(admin_user)

    edited = _saved_in_the_admin(client, task, instruction="Name two beta blockers.", input="Call 617-555-0199.")

    assert edited.content_hash == content_hash(edited.instruction, edited.input, edited.reference_output)
    assert edited.updated_at > task.updated_at
    matching = SeedTask.objects.filter(project=project)
    assert list(seed_tasks_matching(matching, "blockers")) == [edited]
    assert list(seed_tasks_matching(matching, "diuretics")) == []
    scan = PhiScan.objects.get(seed_task=edited)
    assert scan.content_hash == edited.content_hash
    assert list(PhiFinding.objects.filter(seed_task=edited).values_list("kind", "field")) == [("PHONE", "input")]
    # Nothing is left for the catch-ups: the edit is as the app's own edits leave it.
    assert seed_task_search_catch_up(project_id=project.pk) == 0
    assert phi_scan_now(project_id=project.pk).texts_scanned == 0


def test_an_admin_save_that_leaves_the_texts_alone_does_not_scan_them_again(client, admin_user, project):
    task = seed_task_create(project=project, instruction="Name two loop diuretics.")
    scanned_at = PhiScan.objects.get(seed_task=task).scanned_at
    client.force_login(admin_user)

    edited = _saved_in_the_admin(client, task, external_id="seed-17")

    assert edited.external_id == "seed-17" and edited.content_hash == task.content_hash
    assert PhiScan.objects.get(seed_task=task).scanned_at == scanned_at


def test_a_task_added_in_the_admin_is_hashed_and_scanned_as_a_new_task_is(client, admin_user, project):
    client.force_login(admin_user)
    fields = {"project": project.pk, "instruction": "Call Mrs. Jane Doe on 617-555-0199.", "input": ""}
    fields |= {"reference_output": "", "source": "clinician", "status": "draft"}
    response = client.post(reverse(_admin_urls(SeedTask, "add")), fields)
    assert response.status_code == 302, response.content.decode()[:2000]

    task = SeedTask.objects.get(project=project)
    assert task.content_hash == content_hash(task.instruction, "", "")
    assert PhiScan.objects.get(seed_task=task).content_hash == task.content_hash
    assert PhiFinding.objects.filter(seed_task=task, kind="PHONE").exists()
    assert seed_task_search_catch_up(project_id=project.pk) == 0
