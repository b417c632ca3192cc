"""The vocabulary page costs the same number of queries with 5 tasks as with 50."""

from django.urls import reverse

from curation.models import SeedTask, VocabularyKind
from curation.services.vocabulary import vocabulary_term_get_or_create
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
    tasks = grow(project, [], 6)  # "Type 0", "Type 1", "Type 2" twice each, none mapped
    term = vocabulary_term_get_or_create(kind=VocabularyKind.TASK_TYPE, name="Type 0")
    SeedTask.objects.filter(pk__in=[t.pk for t in tasks], task_type_raw="Type 0").update(task_type=term)
    client.force_login(curator)
    kinds = {use.kind: use for use in client.get(reverse("vocabulary", args=[project.slug])).context["kinds"]}
    task_types = kinds[VocabularyKind.TASK_TYPE]
    assert task_types.unmapped == [{"raw": "Type 1", "count": 2}, {"raw": "Type 2", "count": 2}]
    assert {t.name: t.task_count for t in task_types.terms}["Type 0"] == 2
