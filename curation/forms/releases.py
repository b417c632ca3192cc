from django import forms
from django.db.models import F
from django.db.models.functions import Coalesce

from curation.models import Difficulty, EvaluationRound, Project, ReleaseFormat, RoundMode, SeedTask, TaskStatus
from curation.services.releases import DEFAULT_LICENSE


def _choices(project: Project, term: str, raw_field: str) -> list[tuple[str, str]]:
    names = (
        SeedTask.objects.filter(project=project)
        .annotate(label=Coalesce(F(term), F(raw_field)))
        .exclude(label="")
        .order_by("label")
        .values_list("label", flat=True)
        .distinct()
    )
    return [(name, name) for name in names]


class ReleaseForm(forms.Form):
    """The release definition as a page posts it; curation.services.releases validates the filters."""

    title = forms.CharField(max_length=200, required=False, help_text="Defaults to the project and format")
    format = forms.ChoiceField(choices=ReleaseFormat.choices, initial=ReleaseFormat.ALPACA)
    purpose = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, help_text="For the card")
    license = forms.CharField(max_length=200, initial=DEFAULT_LICENSE)
    statuses = forms.MultipleChoiceField(
        label="Task status",
        choices=TaskStatus.choices,
        initial=[TaskStatus.ACCEPTED],
        widget=forms.CheckboxSelectMultiple,
    )
    min_reviewers = forms.IntegerField(label="Minimum reviewers", min_value=0, initial=0)
    min_agreement = forms.FloatField(
        label="Minimum agreement",
        min_value=0,
        max_value=1,
        required=False,
        help_text="Alpaca and chat only: the share of reviewer pairs that agree on an item, 0 to 1",
    )
    topics = forms.MultipleChoiceField(required=False, widget=forms.SelectMultiple(attrs={"size": 4}))
    views = forms.MultipleChoiceField(required=False, widget=forms.SelectMultiple(attrs={"size": 4}))
    types = forms.MultipleChoiceField(label="Types", required=False, widget=forms.SelectMultiple(attrs={"size": 4}))
    difficulties = forms.TypedMultipleChoiceField(
        choices=Difficulty.choices, coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    created_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    created_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    system_prompt = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, help_text="Chat format only"
    )
    rounds = forms.TypedMultipleChoiceField(
        label="Evaluation rounds",
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 3}),
        help_text="Preference only: rounds whose clear majorities become pairs (none chosen: every frozen or closed "
        "pairwise round)",
    )
    round_axis = forms.CharField(
        label="Round question",
        initial="overall",
        required=False,
        help_text="Preference only: the pairwise question whose majority counts",
    )

    FILTERS = ("statuses", "min_reviewers", "min_agreement", "topics", "views", "types", "difficulties",
               "created_from", "created_to", "system_prompt", "rounds", "round_axis")  # fmt: skip

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topics"].choices = _choices(project, "topic__name", "topic_raw")
        self.fields["views"].choices = _choices(project, "view__name", "view_raw")
        self.fields["types"].choices = _choices(project, "task_type__name", "task_type_raw")
        self.fields["rounds"].choices = [
            (r.pk, f"#{r.pk} {r.name} ({r.get_status_display().split(':')[0].lower()})")
            for r in EvaluationRound.objects.filter(project=project, mode=RoundMode.PAIRWISE).order_by("pk")
        ]

    def filters(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.FILTERS}
