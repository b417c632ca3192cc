"""The releases page costs the same number of queries with 5 tasks as with 50, and its form offers the
topics, views and types the project's tasks carry (a term's name, or the spelling no term has)."""

from django.urls import reverse

from curation.models import VocabularyKind
from curation.services.vocabulary import vocabulary_map_raw, vocabulary_term_get_or_create
from tests.scale import grow, queries


def test_the_releases_page_costs_the_same_with_5_and_50_tasks_and_offers_their_terms(
    client, project, admin_user, django_assert_num_queries
):
    client.force_login(admin_user)
    url = reverse("release_list", args=[project.slug])
    grow(project, [], 5)
    client.get(url)  # the first request after logging in may write the session; count the ones after it
    small = queries(client, "get", url)
    grow(project, [], 45)
    rewrite = vocabulary_term_get_or_create(kind=VocabularyKind.TASK_TYPE, name="Rewrite")
    vocabulary_map_raw(kind=VocabularyKind.TASK_TYPE, raw="Type 2", term=rewrite)  # offered by the term's name
    with django_assert_num_queries(small):
        form = client.get(url).context["form"]
    assert [label for label, _ in form.fields["topics"].choices] == [f"Topic {n}" for n in range(7)]
    assert [label for label, _ in form.fields["types"].choices] == ["Rewrite", "Type 0", "Type 1"]
    assert [label for label, _ in form.fields["views"].choices] == ["Patient"]
