"""The disagreement queue is found by a worker and read a page at a time: the page and the API show the
last search with its age, say when reviews or flags changed since, and let curators recompute it; no
request searches the project."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from curation.models import (
    Computation,
    ComputationKind,
    ComputationStatus,
    DisagreementRule,
    DisputedItem,
    ItemFlag,
    Review,
)
from curation.selectors import adjudication as adjudication_selectors
from curation.selectors.adjudication import disagreements_detect
from curation.selectors.disagreements import disagreements_last_counted, disputed_items_of
from curation.services import disagreements as disagreements_service
from curation.services.adjudication import adjudication_settings_update, gold_label_adjudicate
from curation.services.computations import computation_run
from curation.services.disagreements import disagreements_refresh
from curation.services.flags import item_flag_clear, item_flag_raise
from curation.services.reviews import review_submit
from tests.adjudication.answers import SEED_AGREED
from tests.factories import ClinicianFactory, MembershipFactory, ModelResponseFactory, SeedTaskFactory
from tests.scale import grow, queries


def member(project, name):
    user = ClinicianFactory(name=name)
    MembershipFactory(project=project, user=user)
    return user


@pytest.fixture
def reviewers(project):
    return member(project, "Dr. Alpha"), member(project, "Dr. Beta")


def rate(reviewer, task, **changes):
    return review_submit(
        reviewer=reviewer, schema=task.project.seed_schema, seed_task=task, answers={**SEED_AGREED, **changes}
    )


def dispute(task, reviewers, low=1, high=5):
    rate(reviewers[0], task, clinical_validity=low)
    rate(reviewers[1], task, clinical_validity=high)


def disputed_in_bulk(project, reviewers, n):
    """n more seed tasks whose two reviews are 4 apart on clinical validity (written in bulk)."""
    tasks = grow(project, [], n)
    Review.objects.bulk_create(
        Review(
            project=project,
            schema=project.seed_schema,
            reviewer=reviewer,
            seed_task=task,
            answers={**SEED_AGREED, "clinical_validity": value},
        )
        for task in tasks
        for reviewer, value in zip(reviewers, (1, 5), strict=True)
    )
    return tasks


@pytest.fixture
def queued(monkeypatch):
    """A worker that only records which computations it was asked to run."""
    asked = []
    monkeypatch.setattr("curation.jobs.computation_run_task.delay", asked.append)
    return asked


def queue_url(project, query=""):
    return reverse("adjudication_queue", args=[project.slug]) + query


def shown_rows(page):
    return [(d.item_type, d.item_id) for d in page.context["page"]]


# --- the page ---------------------------------------------------------------------------------------


def test_the_queue_shows_the_last_search_most_severe_first_with_its_age(client, project, reviewers, curator):
    wide, narrow = SeedTaskFactory(project=project), SeedTaskFactory(project=project)
    dispute(narrow, reviewers, 2, 4)
    dispute(wide, reviewers, 1, 5)
    disagreements_refresh(project=project)
    Computation.objects.update(computed_at=timezone.now() - timedelta(hours=2))
    client.force_login(curator)

    page = client.get(queue_url(project))

    assert shown_rows(page) == [("seed_task", wide.pk), ("seed_task", narrow.pk)]
    body = page.content.decode()
    assert "2\xa0hours ago" in body and 'data-testid="recompute"' in body
    assert "Clinical validity: 1, 5 (spread 4)" in body
    assert 'data-testid="stale"' not in body and 'data-testid="computing"' not in body
    # Blind review: the queue names the items and what disagrees, never who answered what.
    assert "Dr. Alpha" not in body and "Dr. Beta" not in body


def test_the_queue_lists_what_the_whole_project_search_finds_in_the_same_order(project, reviewers):
    tasks = [SeedTaskFactory(project=project) for _ in range(4)]
    for task, (low, high) in zip(tasks, ((2, 4), (1, 5), (3, 5), (1, 4)), strict=True):
        dispute(task, reviewers, low, high)
    response = ModelResponseFactory(seed_task=tasks[0])
    ItemFlag.objects.create(project=project, response=response, kind="unsafe", raised_by=reviewers[0])

    computation = disagreements_refresh(project=project)

    stored = DisputedItem.objects.filter(generation=computation.generation).order_by("position")
    found = disagreements_detect(project=project)
    assert [(d.item_type, d.item_id, d.level, d.reasons) for d in stored] == [
        (d.item_type, d.item.pk, d.level, d.reasons) for d in found
    ]
    assert [d.position for d in stored] == [1, 2, 3, 4, 5]
    assert stored[0].response_id == response.pk and stored[0].level == "safety"


def test_the_first_visit_queues_a_search_and_the_page_polls_until_a_worker_publishes_it(
    client, project, reviewers, curator, queued, django_capture_on_commit_callbacks
):
    task = SeedTaskFactory(project=project)
    dispute(task, reviewers)
    client.force_login(curator)

    with django_capture_on_commit_callbacks(execute=True):
        first = client.get(queue_url(project))
        polled = client.get(queue_url(project), headers={"HX-Request": "true"})

    (computation,) = Computation.objects.filter(kind=ComputationKind.DISAGREEMENTS)
    assert queued == [computation.pk]  # the poll does not queue it again
    assert 'data-testid="computing"' in first.content.decode() and shown_rows(first) == []
    fragment = polled.content.decode()
    assert fragment.lstrip().startswith('<div id="queue">') and "<html" not in fragment
    assert f'hx-get="{queue_url(project)}"' in fragment and 'hx-trigger="every 3s"' in fragment
    computation_run(computation_id=computation.pk)
    assert shown_rows(client.get(queue_url(project))) == [("seed_task", task.pk)]


def test_a_review_submitted_after_the_search_marks_it_stale_and_nothing_is_searched_again(
    client, project, reviewers, curator, queued, monkeypatch
):
    first, later = SeedTaskFactory(project=project), SeedTaskFactory(project=project)
    dispute(first, reviewers)
    disagreements_refresh(project=project)
    dispute(later, reviewers)
    monkeypatch.setattr(adjudication_selectors, "disagreement_scan", lambda **kw: pytest.fail("searched inline"))
    client.force_login(curator)

    page = client.get(queue_url(project))

    assert 'data-testid="stale"' in page.content.decode()
    assert shown_rows(page) == [("seed_task", first.pk)]  # what the last search found, until a Recompute
    assert queued == []


def test_a_flag_raised_or_cleared_after_the_search_marks_it_stale(client, project, reviewers, curator):
    task = SeedTaskFactory(project=project)
    rate(reviewers[0], task)
    disagreements_refresh(project=project)
    client.force_login(curator)
    assert 'data-testid="stale"' not in client.get(queue_url(project)).content.decode()

    flag = item_flag_raise(reviewer=reviewers[0], kind="unsafe", seed_task=task, note="dose")
    assert 'data-testid="stale"' in client.get(queue_url(project)).content.decode()
    disagreements_refresh(project=project)
    assert shown_rows(client.get(queue_url(project))) == [("seed_task", task.pk)]

    item_flag_clear(flag=flag, curator=curator, note="dose checked")
    assert 'data-testid="stale"' in client.get(queue_url(project)).content.decode()
    disagreements_refresh(project=project)
    assert shown_rows(client.get(queue_url(project))) == []


def test_changing_the_rule_queues_a_search_under_the_new_rule(project, reviewers, curator, queued):
    task = SeedTaskFactory(project=project)
    dispute(task, reviewers, 3, 4)
    disagreements_refresh(project=project)
    assert DisputedItem.objects.count() == 0  # a spread of one is no dispute under the spread rule

    adjudication_settings_update(
        project=project, actor=curator, rule=DisagreementRule.ANY, min_spread=2, dynamic_overlap=False
    )

    computation = Computation.objects.get(kind=ComputationKind.DISAGREEMENTS)
    assert computation.status == ComputationStatus.QUEUED
    computation_run(computation_id=computation.pk)
    assert list(DisputedItem.objects.values_list("seed_task_id", flat=True)) == [task.pk]


def test_saving_a_gold_label_settles_the_row_at_once_and_the_counts_follow(client, project, reviewers, curator):
    first, second = SeedTaskFactory(project=project), SeedTaskFactory(project=project)
    dispute(first, reviewers)
    dispute(second, reviewers, 2, 5)
    disagreements_refresh(project=project)

    gold_label_adjudicate(
        project=project,
        schema=project.seed_schema,
        seed_task=first,
        adjudicator=curator,
        values={**SEED_AGREED, "clinical_validity": 3},
        reason="reviewer_error",
        expected_version=0,
    )

    client.force_login(curator)
    page = client.get(queue_url(project))
    assert shown_rows(page) == [("seed_task", second.pk)]
    assert page.context["counts"] == {"rule": "spread", "min_spread": 2, "to_settle": 1, "settled": 1}
    with_settled = client.get(queue_url(project, "?settled=1"))
    assert shown_rows(with_settled) == [("seed_task", first.pk), ("seed_task", second.pk)]
    assert "Settled" in with_settled.content.decode()
    assert disagreements_last_counted(project_ids=[project.pk])[project.pk]["to_settle"] == 1


def test_the_queue_pages_by_cursor_and_keeps_the_settled_filter(client, project, reviewers, curator, monkeypatch):
    monkeypatch.setattr("curation.views.adjudication.QUEUE_PAGE_SIZE", 3)
    tasks = disputed_in_bulk(project, reviewers, 7)
    disagreements_refresh(project=project)
    client.force_login(curator)

    seen, url = [], queue_url(project)
    while url:
        page = client.get(url)
        seen += [item_id for _, item_id in shown_rows(page)]
        cursor = page.context["page"].next_cursor
        url = queue_url(project, f"?cursor={cursor}") if cursor else None

    assert seen == [t.pk for t in tasks]  # equally severe: the oldest item first
    bad = client.get(queue_url(project, "?cursor=nonsense"))
    assert bad.status_code == 400


def test_recompute_is_for_curators_queues_one_run_and_answers_htmx_with_the_polling_queue(
    client, project, reviewers, curator, clinician, outsider, queued, django_capture_on_commit_callbacks
):
    dispute(SeedTaskFactory(project=project), reviewers)
    disagreements_refresh(project=project)
    url = reverse("adjudication_queue_recompute", args=[project.slug])
    for who, status in ((clinician, 403), (outsider, 404)):
        client.force_login(who)
        assert client.post(url).status_code == status
        assert client.get(queue_url(project)).status_code == status
    assert queued == []
    client.force_login(curator)

    with django_capture_on_commit_callbacks(execute=True):
        swapped = client.post(url, headers={"HX-Request": "true"})
        again = client.post(url)

    assert queued == [Computation.objects.get().pk]
    fragment = swapped.content.decode()
    assert fragment.lstrip().startswith('<div id="queue">') and 'data-testid="computing"' in fragment
    assert f'hx-get="{queue_url(project)}"' in fragment  # polls the queue, not the recompute address
    assert again.status_code == 302 and again.url == queue_url(project)


def test_a_search_replaces_the_previous_rows_and_a_failed_one_leaves_them_shown(project, reviewers, monkeypatch):
    first, second = SeedTaskFactory(project=project), SeedTaskFactory(project=project)
    dispute(first, reviewers)
    computation = disagreements_refresh(project=project)
    dispute(second, reviewers)
    computation = disagreements_refresh(project=project)
    assert set(DisputedItem.objects.values_list("generation", "seed_task_id")) == {
        (computation.generation, first.pk),
        (computation.generation, second.pk),
    }

    def broken(**kwargs):
        yield from adjudication_selectors.disagreement_scan(**kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(disagreements_service, "disagreement_scan", broken)
    Computation.objects.update(status=ComputationStatus.QUEUED)
    with pytest.raises(RuntimeError):
        computation_run(computation_id=computation.pk)

    failed = Computation.objects.get()
    assert failed.status == ComputationStatus.FAILED and "disk full" in failed.error
    assert failed.generation == computation.generation
    shown = disputed_items_of(project=project, generation=failed.generation)
    assert [d.seed_task_id for d in shown] == [first.pk, second.pk]


# --- the API ----------------------------------------------------------------------------------------


def test_the_api_answers_202_with_where_to_poll_until_the_first_search_is_published(
    client, project, reviewers, curator, queued, django_capture_on_commit_callbacks
):
    task = SeedTaskFactory(project=project)
    dispute(task, reviewers)
    client.force_login(curator)
    url = reverse("api_disagreement_list", args=[project.slug])

    with django_capture_on_commit_callbacks(execute=True):
        waiting = client.get(url)

    assert waiting.status_code == 202 and waiting["Location"] == url
    assert waiting.json()["status"] == "computing"
    computation_run(computation_id=queued[0])
    body = client.get(url).json()
    assert (body["to_settle"], body["stale"], body["computing"]) == (1, False, False)
    assert body["computed_at"] and [(d["item_type"], d["item_id"]) for d in body["results"]] == [("seed_task", task.pk)]


def test_the_api_pages_the_last_search_by_cursor_says_when_it_is_stale_and_a_post_queues_a_new_one(
    client, project, reviewers, curator, queued, django_capture_on_commit_callbacks
):
    tasks = disputed_in_bulk(project, reviewers, 5)
    disagreements_refresh(project=project)
    dispute(SeedTaskFactory(project=project), reviewers)
    client.force_login(curator)
    url = reverse("api_disagreement_list", args=[project.slug])

    first = client.get(url, {"page_size": 3}).json()
    second = client.get(first["next"]).json()

    assert first["stale"] is True and first["to_settle"] == 5
    assert [d["item_id"] for d in first["results"] + second["results"]] == [t.pk for t in tasks]
    assert [d["position"] for d in first["results"]] == [1, 2, 3] and second["next"] is None
    assert "Dr. Alpha" not in str(first)  # the answers are listed, never who gave them
    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(url)
    assert posted.status_code == 202 and posted["Location"] == url and len(queued) == 1
    assert client.get(url).json()["computing"] is True


def test_clinicians_get_403_and_outsiders_404_from_the_queue_api_and_its_recompute(
    client, project, clinician, outsider, queued
):
    url = reverse("api_disagreement_list", args=[project.slug])
    for who, status in ((clinician, 403), (outsider, 404)):
        client.force_login(who)
        assert client.get(url).status_code == status
        assert client.post(url).status_code == status
    assert not Computation.objects.exists() and queued == []


# --- the same cost at any size ----------------------------------------------------------------------


def test_the_queue_page_its_fragment_and_the_api_cost_the_same_queries_at_5_and_50_disputed_items(
    client, project, reviewers, curator, django_assert_num_queries
):
    client.force_login(curator)
    urls = [
        (queue_url(project), {}),
        (queue_url(project, "?settled=1"), {"headers": {"HX-Request": "true"}}),
        (reverse("api_disagreement_list", args=[project.slug]), {}),
    ]
    disputed_in_bulk(project, reviewers, 5)
    disagreements_refresh(project=project)
    small = [queries(client, "get", url, **kwargs) for url, kwargs in urls]
    disputed_in_bulk(project, reviewers, 45)
    response = ModelResponseFactory(seed_task=project.seed_tasks.first())
    ItemFlag.objects.create(project=project, response=response, kind="unsafe", raised_by=reviewers[0])
    disagreements_refresh(project=project)
    assert Computation.objects.get().result["to_settle"] == 51
    for (url, kwargs), expected in zip(urls, small, strict=True):
        with django_assert_num_queries(expected):
            assert client.get(url, **kwargs).status_code == 200
