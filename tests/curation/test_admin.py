"""The Django admin: every registered model's list and one record open for an admin, and the records
that services write (reviews, judgments, releases, gold labels, audits, rounds) cannot be added or
changed there."""

import os

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from curation.admin import ViewOnly


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
