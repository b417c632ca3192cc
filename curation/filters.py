import django_filters

from curation.forms.widgets import PlainSelect
from curation.models import SeedTask, TaskStatus, VocabularyKind, VocabularyTerm
from curation.selectors.seed_tasks import seed_tasks_matching


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

    def search(self, queryset, name, value):
        return seed_tasks_matching(queryset, value)
