"""One exception handler for the API: a service's refusal is a 400 keyed by field, as DRF keys its own errors."""

import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from rest_framework.test import APIRequestFactory

from curation.api.exceptions import api_exception_handler
from curation.services.reviews import AnswersInvalid
from tests.factories import AssignmentFactory, SeedTaskFactory
from tests.reviews.test_services import SEED_ANSWERS


def handled(exc: Exception):
    request = APIRequestFactory().post("/api/")
    return api_exception_handler(exc, {"request": request, "view": None})


def test_a_message_for_a_field_is_a_400_under_that_field():
    response = handled(ValidationError({"format": "Unknown format 'yaml'."}))
    assert response.status_code == 400
    assert response.data == {"format": ["Unknown format 'yaml'."]}


def test_a_message_without_a_field_is_a_non_field_error():
    response = handled(ValidationError("This item is not assigned to you."))
    assert response.status_code == 400
    assert response.data == {"non_field_errors": ["This item is not assigned to you."]}


def test_django_all_key_becomes_drfs_non_field_errors_key_beside_the_fields():
    response = handled(ValidationError({"__all__": ["Pick one."], "reason": ["is required"]}))
    assert response.data == {"non_field_errors": ["Pick one."], "reason": ["is required"]}


def test_errors_keyed_inside_an_input_object_are_nested_under_it():
    nested = handled(AnswersInvalid({"decision": ["is required"]}))
    assert nested.data == {"answers": {"decision": ["is required"]}}
    whole = handled(AnswersInvalid("Answers must be an object keyed by field."))
    assert whole.data == {"answers": ["Answers must be an object keyed by field."]}


def test_drfs_own_errors_keep_drfs_answers():
    assert handled(Http404()).status_code == 404
    assert handled(PermissionDenied()).status_code == 403
    assert handled(ValueError("not an API error")) is None


def test_a_refused_review_is_a_400_naming_the_problem(client, project, clinician):
    assignment = AssignmentFactory(seed_task=SeedTaskFactory(project=project), reviewer=clinician)
    client.force_login(clinician)
    url = reverse("api_review_submit", args=[project.slug])
    payload = {"assignment": assignment.pk, "answers": SEED_ANSWERS, "submission_key": str(uuid.uuid4())}
    refused = client.post(url, {**payload, "corrected_text": "A better reference."}, content_type="application/json")
    assert refused.status_code == 400
    assert refused.json() == {"corrected_text": ["A corrected response belongs to a model response only."]}


@pytest.mark.parametrize("answers", [["accept"], {"decision": "maybe"}])
def test_refused_answers_are_a_400_under_answers(client, project, clinician, answers):
    assignment = AssignmentFactory(seed_task=SeedTaskFactory(project=project), reviewer=clinician)
    client.force_login(clinician)
    url = reverse("api_review_submit", args=[project.slug])
    payload = {"assignment": assignment.pk, "answers": answers, "submission_key": str(uuid.uuid4())}
    refused = client.post(url, payload, content_type="application/json")
    assert refused.status_code == 400 and set(refused.json()) == {"answers"}


def test_a_review_of_a_skipped_item_is_refused_without_a_field(client, project, clinician):
    assignment = AssignmentFactory(seed_task=SeedTaskFactory(project=project), reviewer=clinician, status="skipped")
    client.force_login(clinician)
    payload = {"assignment": assignment.pk, "answers": SEED_ANSWERS, "submission_key": str(uuid.uuid4())}
    refused = client.post(reverse("api_review_submit", args=[project.slug]), payload, content_type="application/json")
    assert refused.status_code == 400
    assert refused.json() == {"non_field_errors": ["You skipped this item; it is no longer yours to review."]}
