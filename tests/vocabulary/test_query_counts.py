"""The vocabulary page costs the same number of queries with 5 tasks as with 50."""

from django.urls import reverse

from curation.models import VocabularyKind
from curation.services.vocabulary import vocabulary_map_raw
from tests.scale import grow, queries


def test_vocabulary_page_costs_the_same_with_5_and_50_tasks(client, project, curator, django_assert_num_queries):
    client.force_login(curator)
    url = reverse("vocabulary", args=[project.slug])
    grow(project, [], 5)
    small = queries(client, "get", url)
    grow(project, [], 45)
    with django_assert_num_queries(small):
        client.get(url)


def test_vocabulary_page_counts_mapped_tasks_per_term_and_unmapped_values_per_spelling(client, project, curator):
    grow(project, [], 6)  # "Type 0", "Type 1", "Type 2" twice each, none mapped
    vocabulary_map_raw(kind=VocabularyKind.TASK_TYPE, raw="Type 0", term=None)  # a new term "Type 0"
    client.force_login(curator)
    kinds = {use.kind: use for use in client.get(reverse("vocabulary", args=[project.slug])).context["kinds"]}
    task_types = kinds[VocabularyKind.TASK_TYPE]
    assert task_types.unmapped == [{"raw": "Type 1", "count": 2}, {"raw": "Type 2", "count": 2}]
    assert {t.name: t.task_count for t in task_types.terms}["Type 0"] == 2


def test_mapping_a_spelling_finds_its_spellings_in_the_kept_counts_not_by_grouping_every_task(project):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    grow(project, [], 6)  # "Type 0", "Type 1", "Type 2" twice each
    with CaptureQueriesContext(connection) as captured:
        term, relinked = vocabulary_map_raw(kind=VocabularyKind.TASK_TYPE, raw="type 1", term=None)

    assert relinked == 2 and term.name == "type 1"
    distinct_over_tasks = [q["sql"] for q in captured if "DISTINCT" in q["sql"] and "curation_seedtask" in q["sql"]]
    assert distinct_over_tasks == []
