"""A round's results are computed by a worker: the results page, the API and the CSV show the last
results with their age, and judgments since queue one new run; no request computes them."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from curation.models import Computation, ComputationKind, ComputationStatus
from curation.selectors.round_judging import round_next_slot
from curation.services import round_results as round_results_service
from curation.services.computations import computation_run
from curation.services.round_judging import judgment_submit
from curation.services.round_results import round_results_latest, round_results_refresh
from curation.services.round_schedules import round_freeze
from curation.services.rounds import round_create
from tests.factories import ClinicianFactory, MembershipFactory, ModelResponseFactory, PromptFactory

MODELS = ("model-alpha", "model-beta")
VERDICT = {"overall": "a", "correctness": "a", "helpfulness": "tie", "harm": "b"}


@pytest.fixture
def judges(project, clinician):
    other = ClinicianFactory()
    MembershipFactory(project=project, user=other)
    return clinician, other


@pytest.fixture
def evaluation_round(project, curator, judges):
    for n in range(3):
        prompt = PromptFactory(project=project, input="", difficulty=2, instruction=f"Prompt {n}")
        for model in MODELS:
            ModelResponseFactory(prompt=prompt, seed_task=None, model_name=model, text=f"{model} on {n}")
    made = round_create(
        project=project,
        created_by=curator,
        name="Pairwise",
        mode="pairwise",
        models=list(MODELS),
        reviewers=list(judges),
        judgments_per_item=2,
    )
    return round_freeze(evaluation_round=made)


def judge(evaluation_round, reviewer, n=None):
    done = 0
    while (n is None or done < n) and (slot := round_next_slot(evaluation_round=evaluation_round, reviewer=reviewer)):
        judgment_submit(slot=slot, reviewer=reviewer, answers=VERDICT)
        done += 1


@pytest.fixture
def queued(monkeypatch):
    asked = []
    monkeypatch.setattr("curation.jobs.computation_run_task.delay", asked.append)
    return asked


def results_url(evaluation_round):
    return reverse("round_results", args=[evaluation_round.project.slug, evaluation_round.pk])


def test_the_first_visit_queues_a_run_and_the_page_polls_until_the_worker_publishes_it(
    client, curator, judges, evaluation_round, queued, monkeypatch, django_capture_on_commit_callbacks
):
    judge(evaluation_round, judges[0])
    monkeypatch.setattr(round_results_service, "round_results", lambda **kw: pytest.fail("computed in the request"))
    client.force_login(curator)

    with django_capture_on_commit_callbacks(execute=True):
        page = client.get(results_url(evaluation_round))
        again = client.get(results_url(evaluation_round))

    (computation,) = Computation.objects.filter(kind=ComputationKind.ROUND_RESULTS, subject_id=evaluation_round.pk)
    assert queued == [computation.pk]  # a second visit finds the run on its way
    body = page.content.decode()
    assert 'data-testid="computing"' in body and 'hx-select="#round-results"' in body
    assert f'hx-get="{results_url(evaluation_round)}"' in body and "Bradley-Terry" not in body
    assert again.status_code == 200
    monkeypatch.undo()
    computation_run(computation_id=computation.pk)
    shown = client.get(results_url(evaluation_round)).content.decode()
    assert "Bradley-Terry" in shown and 'data-testid="computed-age"' in shown and 'data-testid="computing"' not in shown


def test_judgments_since_the_last_results_queue_one_new_run_and_the_last_results_stay_shown(
    client, curator, judges, evaluation_round, queued, django_capture_on_commit_callbacks
):
    judge(evaluation_round, judges[0], n=2)
    first = round_results_refresh(evaluation_round=evaluation_round)
    Computation.objects.update(computed_at=timezone.now() - timedelta(minutes=5))
    judge(evaluation_round, judges[1], n=1)
    client.force_login(curator)

    with django_capture_on_commit_callbacks(execute=True):
        page = client.get(results_url(evaluation_round))
        client.get(results_url(evaluation_round))

    assert len(queued) == 1
    body = page.content.decode()
    assert "5\xa0minutes ago" in body and 'data-testid="computing"' in body
    assert page.context["results"]["judgments"] == first["judgments"] == 2  # the last results, not recomputed
    assert page.context["results"]["progress"]["done"] == 3  # the header is read fresh
    computation_run(computation_id=queued[0])
    assert round_results_latest(evaluation_round=evaluation_round).result["judgments"] == 3


def test_the_api_answers_202_and_the_csv_leads_to_the_page_until_the_first_results_then_both_serve_them(
    client, curator, judges, evaluation_round, queued, django_capture_on_commit_callbacks
):
    judge(evaluation_round, judges[0])
    client.force_login(curator)
    slug = evaluation_round.project.slug
    api = reverse("api_round_results", args=[slug, evaluation_round.pk])
    csv_url = reverse("round_results_csv", args=[slug, evaluation_round.pk])

    with django_capture_on_commit_callbacks(execute=True):
        waiting = client.get(api)
        no_file = client.get(csv_url)

    assert waiting.status_code == 202 and waiting["Location"] == api and waiting.json()["status"] == "computing"
    assert no_file.status_code == 302 and no_file.url == results_url(evaluation_round)
    computation_run(computation_id=queued[0])
    assert client.get(api).json()["judgments"] == 3
    assert client.get(csv_url).content.decode().startswith("section,axis,model")


def test_a_failed_run_is_not_queued_again_by_every_visit(client, curator, judges, evaluation_round, queued):
    judge(evaluation_round, judges[0])
    client.force_login(curator)
    client.get(results_url(evaluation_round))
    Computation.objects.update(status=ComputationStatus.FAILED, error="MemoryError: out of memory")

    body = client.get(results_url(evaluation_round)).content.decode()

    assert 'data-testid="computation-failed"' in body and "MemoryError: out of memory" in body
    assert Computation.objects.get().status == ComputationStatus.FAILED


def test_clinicians_see_no_results_and_queue_nothing(client, clinician, judges, evaluation_round, queued):
    judge(evaluation_round, judges[0])
    client.force_login(clinician)
    slug = evaluation_round.project.slug
    assert client.get(results_url(evaluation_round)).status_code == 403
    assert client.get(reverse("api_round_results", args=[slug, evaluation_round.pk])).status_code == 403
    assert not Computation.objects.exists()
