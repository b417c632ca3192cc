import django_filters
from django import forms

from curation.forms.widgets import PlainSelect
from curation.models import SeedTask, TaskStatus, VocabularyKind, VocabularyTerm
from curation.selectors.seed_tasks import seed_tasks_matching

VOCABULARY_FILTERS = {"topic": VocabularyKind.TOPIC, "view": VocabularyKind.VIEW, "task_type": VocabularyKind.TASK_TYPE}


class SeedTaskFilter(django_filters.FilterSet):
    """Shared by the task list page and the API, so both filter the same way."""

    q = django_filters.CharFilter(method="search", label="Search")
    # The page draws these selects with every vocabulary term in them: PlainSelect, for the page's speed.
    status = django_filters.ChoiceFilter(choices=TaskStatus.choices, widget=PlainSelect)
    topic = django_filters.ModelChoiceFilter(
        queryset=VocabularyTerm.objects.filter(kind=VocabularyKind.TOPIC), label="Topic", widget=PlainSelect
    )
    view = django_filters.ModelChoiceFilter(
        queryset=VocabularyTerm.objects.filter(kind=VocabularyKind.VIEW), label="View", widget=PlainSelect
    )
    task_type = django_filters.ModelChoiceFilter(
        queryset=VocabularyTerm.objects.filter(kind=VocabularyKind.TASK_TYPE), label="Type", widget=PlainSelect
    )
    difficulty = django_filters.ChoiceFilter(
        choices=[(str(i), str(i)) for i in range(1, 6)], label="Difficulty", widget=PlainSelect
    )

    class Meta:
        model = SeedTask
        fields = ["q", "status", "topic", "view", "task_type", "difficulty"]

    def with_vocabulary_choices(self) -> "SeedTaskFilter":
        """The topic, view and type selects filled from one query, for a page that draws the form.

        Left alone, each select reads its terms through a server-side cursor of its own: three queries of
        three round trips each on PostgreSQL, on every visit of the task list. The options are the same
        (the terms' own ordering and names); a chosen term is still checked against the database.
        """
        terms: dict[str, list[tuple[int, str]]] = {kind: [] for kind in VOCABULARY_FILTERS.values()}
        rows = VocabularyTerm.objects.filter(kind__in=list(terms)).values_list("id", "kind", "name")
        for term_id, kind, name in rows:
            terms[kind].append((term_id, name))
        for name, kind in VOCABULARY_FILTERS.items():
            field = self.form.fields[name]
            # Django's own setter: django-filters' would wrap the list in a queryset's choice iterator.
            forms.ChoiceField.choices.fset(field, [("", field.empty_label), *terms[kind]])
        return self

    def search(self, queryset, name, value):
        return seed_tasks_matching(queryset, value)
