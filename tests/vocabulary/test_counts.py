"""Mapping a spelling and merging terms move the vocabulary page's counts with the tasks they relink."""

from django.urls import reverse

from curation.models import VocabularyKind, VocabularyTerm
from curation.services.vocabulary import vocabulary_map_raw, vocabulary_term_get_or_create, vocabulary_term_merge
from tests.counts import assert_counts_true
from tests.factories import ProjectFactory
from tests.scale import grow


def test_mapping_a_spelling_moves_its_tasks_in_every_project_to_the_term(client, project, curator):
    other = ProjectFactory()
    grow(project, [], 6)  # "Type 0", "Type 1", "Type 2" twice each
    grow(other, [], 3)
    term, relinked = vocabulary_map_raw(kind=VocabularyKind.TASK_TYPE, raw="type 1", term=None)

    assert relinked == 3  # two here, one in the other project
    assert_counts_true(project)
    assert_counts_true(other)
    client.force_login(curator)
    kinds = {use.kind: use for use in client.get(reverse("vocabulary", args=[project.slug])).context["kinds"]}
    assert [v["raw"] for v in kinds[VocabularyKind.TASK_TYPE].unmapped] == ["Type 0", "Type 2"]
    assert {t.name: t.task_count for t in kinds[VocabularyKind.TASK_TYPE].terms}[term.name] == 2


def test_remapping_a_spelling_to_another_term_moves_its_tasks_again(project):
    grow(project, [], 3)
    first = vocabulary_term_get_or_create(kind=VocabularyKind.TASK_TYPE, name="Summary")
    second = vocabulary_term_get_or_create(kind=VocabularyKind.TASK_TYPE, name="Rewrite")
    vocabulary_map_raw(kind=VocabularyKind.TASK_TYPE, raw="Type 0", term=first)
    vocabulary_map_raw(kind=VocabularyKind.TASK_TYPE, raw="Type 0", term=second)

    assert_counts_true(project)


def test_merging_terms_moves_the_tasks_counts_to_the_term_kept(client, project, curator):
    grow(project, [], 6)
    source, _ = vocabulary_map_raw(kind=VocabularyKind.TASK_TYPE, raw="Type 0", term=None)
    target, _ = vocabulary_map_raw(kind=VocabularyKind.TASK_TYPE, raw="Type 1", term=None)

    assert vocabulary_term_merge(source=source, target=target) == 2

    assert_counts_true(project)
    assert not VocabularyTerm.objects.filter(pk=source.pk).exists()
    client.force_login(curator)
    kinds = {use.kind: use for use in client.get(reverse("vocabulary", args=[project.slug])).context["kinds"]}
    assert {t.name: t.task_count for t in kinds[VocabularyKind.TASK_TYPE].terms}[target.name] == 4
