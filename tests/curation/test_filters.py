"""The task filters' selects: one query for every vocabulary term they offer, the same options as before."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from curation.filters import VOCABULARY_FILTERS, SeedTaskFilter
from curation.models import SeedTask, VocabularyKind, VocabularyTerm

pytestmark = pytest.mark.django_db


def _selects(task_filter: SeedTaskFilter) -> list[str]:
    return [str(task_filter.form[name]) for name in VOCABULARY_FILTERS]


@pytest.fixture
def terms():
    made = []
    for kind in (VocabularyKind.TOPIC, VocabularyKind.VIEW, VocabularyKind.TASK_TYPE):
        for name in ("Zeta & <co>", "alpha", "Beta"):
            made.append(VocabularyTerm.objects.create(kind=kind, name=f"{name} {kind}", key=f"{name} {kind}".lower()))
    return made


@pytest.mark.parametrize("chosen", [None, "topic", "not a term"])
def test_the_selects_filled_in_one_query_offer_what_the_model_choices_offer(terms, chosen):
    topic = next(t for t in terms if t.kind == VocabularyKind.TOPIC)
    data = {} if chosen is None else {"topic": str(topic.pk) if chosen == "topic" else "x"}
    expected = _selects(SeedTaskFilter(data, queryset=SeedTask.objects.none()))

    task_filter = SeedTaskFilter(data, queryset=SeedTask.objects.none())
    task_filter.is_valid()  # as the page does before drawing: checking a chosen term is a query of its own
    with CaptureQueriesContext(connection) as captured:
        drawn = _selects(task_filter.with_vocabulary_choices())

    assert drawn == expected
    assert len(captured) == 1, [q["sql"] for q in captured]
    if chosen == "topic":
        assert f'<option value="{topic.pk}" selected>' in drawn[0]


def test_a_chosen_term_still_filters_and_an_unknown_one_is_refused(terms, project):
    topic = next(t for t in terms if t.kind == VocabularyKind.TOPIC)
    tagged = SeedTask.objects.create(project=project, instruction="Tagged", topic=topic)
    SeedTask.objects.create(project=project, instruction="Untagged")

    chosen = SeedTaskFilter({"topic": str(topic.pk)}, queryset=SeedTask.objects.all()).with_vocabulary_choices()
    assert list(chosen.qs) == [tagged]

    unknown = SeedTaskFilter({"topic": "999999"}, queryset=SeedTask.objects.all()).with_vocabulary_choices()
    assert not unknown.is_valid()
    assert "topic" in unknown.errors
