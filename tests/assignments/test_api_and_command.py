"""Work can be handed out by script, through the API and the CLI, under the assign page's rules."""

import re

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from curation.models import Assignment
from tests.factories import ClinicianFactory, MembershipFactory, ModelResponseFactory, SeedTaskFactory
from tests.scale import grow, queries


@pytest.fixture
def colleague(project):
    other = ClinicianFactory()
    MembershipFactory(project=project, user=other)
    return other


def test_a_curator_assigns_tasks_by_filter_through_the_api_with_k_reviewers_each(
    client, project, clinician, colleague, curator
):
    tasks = grow(project, [], 6)
    client.force_login(curator)
    response = client.post(
        reverse("api_assignment_create", args=[project.slug]),
        {"reviewers": [clinician.email, colleague.email], "k": 2, "status": "in_review", "limit": 4},
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json() == {"created": 8, "items": 4, "short": []}
    assigned = Assignment.objects.filter(project=project, assigned_by=curator)
    assert sorted({a.seed_task_id for a in assigned}) == [t.pk for t in tasks[:4]]
    assert {a.reviewer_id for a in assigned} == {clinician.pk, colleague.pk}


def test_the_api_refuses_an_unknown_reviewer_by_name_and_a_clinician_cannot_assign(client, project, clinician, curator):
    grow(project, [], 2)
    url = reverse("api_assignment_create", args=[project.slug])
    client.force_login(curator)
    refused = client.post(url, {"reviewers": ["nobody@x.org"], "k": 1}, content_type="application/json")
    assert refused.status_code == 400 and "nobody@x.org" in str(refused.json())
    client.force_login(clinician)
    forbidden = client.post(url, {"reviewers": [clinician.email], "k": 1}, content_type="application/json")
    assert forbidden.status_code == 403 and not Assignment.objects.exists()


def test_the_api_batch_costs_the_same_queries_for_5_and_50_items(
    client, project, clinician, colleague, curator, django_assert_num_queries
):
    client.force_login(curator)
    url = reverse("api_assignment_create", args=[project.slug])
    body = {"reviewers": [clinician.email, colleague.email], "k": 2}
    grow(project, [], 5)
    small = queries(client, "post", url, data=body, content_type="application/json")
    grow(project, [], 50)
    with django_assert_num_queries(small):
        client.post(url, {**body, "limit": 50}, content_type="application/json")


def test_the_command_assigns_the_chosen_ids_and_reports_items_that_cannot_reach_k(
    project, clinician, colleague, capsys
):
    tasks = grow(project, [], 3)
    ids = ",".join(str(t.pk) for t in tasks[:2])
    call_command("assign", project=project.slug, reviewers=f"{clinician.email},{colleague.email}", k=3, ids=ids)
    out = capsys.readouterr().out
    assert "4 assignments made on 2 items." in out and f"task {tasks[0].pk} (2 of 3)" in out
    assert Assignment.objects.filter(seed_task=tasks[2]).count() == 0


def test_the_command_names_the_option_at_fault(project, clinician):
    with pytest.raises(CommandError, match=re.escape("--reviewers: No active account with the email: ghost@x.org")):
        call_command("assign", project=project.slug, reviewers="ghost@x.org", k=1)
    with pytest.raises(CommandError, match="--project: no project with slug 'nope'"):
        call_command("assign", project="nope", reviewers=clinician.email, k=1)


def test_a_model_name_that_chooses_nothing_is_refused_naming_the_models_there(project, clinician):
    ModelResponseFactory(seed_task=SeedTaskFactory(project=project), model_name="alpaca")

    with pytest.raises(CommandError, match=re.escape("--model-name: No responses of a model named 'gpt-9'")) as refused:
        call_command(
            "assign", project=project.slug, reviewers=clinician.email, k=1, kind="response", model_name="gpt-9"
        )
    assert "(models: alpaca)" in str(refused.value)
    with pytest.raises(CommandError, match="--model-name: A model name chooses model responses"):
        call_command("assign", project=project.slug, reviewers=clinician.email, k=1, model_name="alpaca")
    assert not Assignment.objects.exists()
