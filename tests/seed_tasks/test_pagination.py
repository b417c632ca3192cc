"""Lists page by cursor: Next and Previous walk every row exactly once, each page costs the same
number of queries, and a cursor the list did not make is refused with a message."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from curation.models import SeedTask
from curation.selectors import seed_tasks as seed_task_selectors
from curation.selectors.seed_tasks import seed_tasks_matching
from curation.services.seed_tasks import seed_task_create
from tests.factories import ClinicianFactory
from tests.scale import grow, queries


def _walk(client, url, *, forward=True, cursor=None):
    """Follow Next (or Previous) links from `cursor` to the end; the ids seen, page by page."""
    pages = []
    while True:
        page = client.get(url, {"cursor": cursor} if cursor else {}).context["page"]
        pages.append([row.pk for row in page])
        cursor = page.next_cursor if forward else page.previous_cursor
        if cursor is None:
            return pages, page


def test_task_list_next_links_visit_every_task_once_in_order_and_previous_links_come_back(client, project, clinician):
    tasks = grow(project, [], 60)
    client.force_login(clinician)
    url = reverse("task_list", args=[project.slug])
    pages, last = _walk(client, url)
    assert [len(p) for p in pages] == [25, 25, 10]
    assert [pk for p in pages for pk in p] == [t.pk for t in tasks]
    back, first = _walk(client, url, forward=False, cursor=last.previous_cursor)
    assert back == [pages[1], pages[0]] and first.previous_cursor is None


def test_review_queue_pages_list_my_to_do_items_first_then_the_rest(client, project, clinician):
    grow(project, [clinician], 60)  # pending, done, skipped in turn
    client.force_login(clinician)
    pages, _ = _walk(client, reverse("review_queue", args=[project.slug]))
    first = client.get(reverse("review_queue", args=[project.slug])).context["page"]
    assert [a.status for a in first][:21] == ["pending"] * 20 + ["done"]
    seen = [pk for page in pages for pk in page]
    assert len(seen) == len(set(seen)) == 60


def test_attention_list_pages_newest_flag_first_and_every_flag_once(client, project, clinician, curator):
    grow(project, [], 120, flags_by=clinician)
    client.force_login(curator)
    pages, _ = _walk(client, reverse("attention_list", args=[project.slug]))
    seen = [pk for page in pages for pk in page]
    assert [len(p) for p in pages] == [50, 50, 20] and seen == sorted(seen, reverse=True)


@pytest.mark.parametrize("url_name", ["task_list", "review_queue", "attention_list"])
def test_a_made_up_cursor_is_refused_with_a_message(client, project, curator, url_name):
    client.force_login(curator)
    response = client.get(reverse(url_name, args=[project.slug]), {"cursor": "not-a-cursor"})
    assert response.status_code == 400


@pytest.mark.parametrize("url_name", ["task_list", "review_queue", "attention_list"])
def test_the_last_page_costs_what_the_first_costs_at_5_and_at_150_rows(
    client, project, curator, url_name, django_assert_num_queries
):
    reviewer = ClinicianFactory()
    project.memberships.create(user=reviewer)
    client.force_login(reviewer if url_name == "review_queue" else curator)
    url = reverse(url_name, args=[project.slug])
    grow(project, [reviewer], 5, flags_by=reviewer)
    small = queries(client, "get", url)
    grow(project, [reviewer], 145, flags_by=reviewer)
    _, last = _walk(client, url)
    with django_assert_num_queries(small):
        client.get(url, {"cursor": last.previous_cursor})
    with django_assert_num_queries(small):
        client.get(url)


def test_api_task_list_pages_by_cursor_with_a_chosen_page_size_up_to_200(client, project, clinician):
    tasks = grow(project, [], 250)
    client.force_login(clinician)
    url = reverse("api_task_list", args=[project.slug])
    first = client.get(url, {"page_size": 100}).json()
    second = client.get(first["next"]).json()
    assert [t["id"] for t in first["results"] + second["results"]] == [t.pk for t in tasks[:200]]
    assert len(client.get(url, {"page_size": 5000}).json()["results"]) == 200


@pytest.mark.parametrize("url_name", ["api_task_list", "api_my_reviews", "api_project_list"])
def test_api_lists_cost_the_same_at_5_and_at_50_rows(client, project, clinician, url_name, django_assert_num_queries):
    client.force_login(clinician)
    url = reverse(url_name, args=[project.slug]) if url_name != "api_project_list" else reverse(url_name)
    grow(project, [clinician], 5)
    small = queries(client, "get", url)
    grow(project, [clinician], 45)
    with django_assert_num_queries(small):
        client.get(url)


def test_search_finds_tasks_by_any_word_of_instruction_input_or_output(project):
    diuretics = seed_task_create(project=project, instruction="Name two loop diuretics.")
    ecg = seed_task_create(project=project, instruction="Read this ECG.", input="Rate 40, wide QRS")
    potassium = seed_task_create(project=project, instruction="Explain.", reference_output="Potassium")
    tasks = SeedTask.objects.filter(project=project)
    assert list(seed_tasks_matching(tasks, "diuretics")) == [diuretics]
    assert list(seed_tasks_matching(tasks, "QRS")) == [ecg]
    assert list(seed_tasks_matching(tasks, "potassium")) == [potassium]
    assert seed_tasks_matching(tasks, "   ").count() == 3


def _plan(sql: str, params) -> str:
    with connection.cursor() as cursor:
        # 50 rows are too few for the planner to prefer any index on its own; with table and b-tree scans off,
        # it shows whether the search condition can use the GIN index at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("few_matches", [2000, 10])
def test_search_reads_the_full_text_index_on_postgresql_and_is_a_substring_match_on_sqlite(
    project, monkeypatch, few_matches
):
    grow(project, [], 50)
    monkeypatch.setattr(seed_task_selectors, "FEW_MATCHES", few_matches)
    with CaptureQueriesContext(connection) as asked:
        found = seed_tasks_matching(SeedTask.objects.all(), "condition")
    sql, params = found.order_by().query.sql_with_params()
    if connection.vendor != "postgresql":
        assert "LIKE" in sql and found.count() == 50 and not asked
        return
    # The GIN index is asked for the matches first (one query); 50 are few, and the list reads just them.
    (probe,) = asked.captured_queries
    assert "seed_task_search_document" in _plan(probe["sql"], None)
    if few_matches == 2000:
        assert "seedtasksearch" not in sql
    else:  # too many to list: the list's own query searches, from the index too
        assert "seed_task_search_document" in _plan(sql, params)
    assert found.count() == 50
