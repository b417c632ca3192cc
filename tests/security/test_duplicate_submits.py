"""Copies of one review submission (a double click, a client retrying) make one review, and the API says
which copy made it: exactly one answers 201 Created, every other 200 with that same review. The answer
is decided under the assignment's lock, so it holds when the copies arrive at the same moment."""

import threading
import uuid

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from curation.models import Review
from tests.factories import AssignmentFactory, ClinicianFactory, MembershipFactory, ProjectFactory, SeedTaskFactory
from tests.markers import on_postgres

SEED_ANSWERS = {"decision": "accept", "clinical_validity": 4, "clarity": 5, "difficulty": 2}


def _submission(project):
    reviewer = ClinicianFactory()
    MembershipFactory(project=project, user=reviewer)
    assignment = AssignmentFactory(seed_task=SeedTaskFactory(project=project), reviewer=reviewer)
    body = {"assignment": assignment.pk, "answers": SEED_ANSWERS, "submission_key": str(uuid.uuid4())}
    return reviewer, body, reverse("api_review_submit", args=[project.slug])


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_repeated_submission_answers_201_once_then_200_with_the_same_review(project):
    reviewer, body, url = _submission(project)
    client = _signed_in(reviewer)
    answers = [client.post(url, body, content_type="application/json") for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 200, 200]
    assert len({a.json()["id"] for a in answers}) == 1
    assert Review.objects.get().pk == answers[0].json()["id"]


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_ten_copies_of_a_submission_at_once_answer_one_201_and_nine_200_with_the_same_review():
    project = ProjectFactory()
    reviewer, body, url = _submission(project)
    clients = [_signed_in(reviewer) for _ in range(10)]
    barrier = threading.Barrier(len(clients))
    answers, errors = [None] * len(clients), []

    def submit(i):
        try:
            barrier.wait()
            answers[i] = clients[i].post(url, body, content_type="application/json")
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors, errors
    assert sorted(a.status_code for a in answers) == [200] * 9 + [201]
    review = Review.objects.get()
    assert {a.json()["id"] for a in answers} == {review.pk}
