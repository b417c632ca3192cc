"""An autosave and a submit that reach the server at the same moment, as they do when a reviewer presses
Ctrl+Enter right after a change: both answer, the review is kept once, no draft outlives it."""

import threading
import uuid

import pytest
import requests
from django.test import Client
from django.urls import reverse

from curation.models import AssignmentStatus, Review, ReviewDraft
from tests.factories import AssignmentFactory, SeedTaskFactory
from tests.reviews.test_pages import post_answers
from tests.reviews.test_services import SEED_ANSWERS

ITEMS = 12


def signed_in_session(live_server, user) -> requests.Session:
    client = Client()
    client.force_login(user)
    session = requests.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    session.get(f"{live_server.url}{reverse('dashboard')}", timeout=30)  # sets the CSRF cookie
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    session.headers["Referer"] = live_server.url
    return session


@pytest.mark.django_db(transaction=True)
def test_an_autosave_racing_a_submit_never_fails_and_leaves_one_review_and_no_draft(live_server, project, clinician):
    tasks = [SeedTaskFactory(project=project) for _ in range(ITEMS)]
    assignments = [AssignmentFactory(seed_task=task, reviewer=clinician) for task in tasks]
    autosaver, submitter = signed_in_session(live_server, clinician), signed_in_session(live_server, clinician)
    answers = {f"a-{key}": value for key, value in SEED_ANSWERS.items()}
    failures: list[str] = []

    def send(session: requests.Session, url: str, data: dict, headers: dict, start: threading.Barrier) -> None:
        start.wait(timeout=30)
        try:
            response = session.post(url, data=data, headers=headers, allow_redirects=False, timeout=60)
        except requests.RequestException as exc:
            failures.append(f"{url}: {exc}")
            return
        if response.status_code >= 400:
            failures.append(f"{url}: {response.status_code} {response.text[:200]}")

    for assignment in assignments:
        item = f"{live_server.url}{reverse('review_item', args=[project.slug, assignment.pk])}"
        start = threading.Barrier(2)
        threads = [
            threading.Thread(target=send, args=(autosaver, f"{item}draft/", answers, {"HX-Request": "true"}, start)),
            threading.Thread(
                target=send,
                args=(submitter, item, post_answers(SEED_ANSWERS, submission_key=str(uuid.uuid4())), {}, start),
            ),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert failures == []
    for assignment in assignments:
        assignment.refresh_from_db()
        assert assignment.status == AssignmentStatus.DONE
        assert Review.objects.filter(assignment=assignment).count() == 1
    assert not ReviewDraft.objects.filter(assignment__in=assignments).exists()
