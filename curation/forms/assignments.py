"""A curator's batch of assignments."""

import re

from django import forms

from accounts.models import Role, User
from curation.models import Difficulty, TaskStatus
from curation.selectors.assignments import assignable_item_ids

MAX_BATCH = 5000


class AssignForm(forms.Form):
    """A curator's batch: which items (a selection of ids, or a filter), to whom, and with how many reviewers."""

    kind = forms.ChoiceField(choices=[("seed_task", "Seed tasks"), ("response", "Model responses")])
    selection = forms.CharField(
        required=False,
        label="Selection",
        help_text="Item ids separated by commas or spaces. Leave empty to use the filter below.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    status = forms.ChoiceField(required=False, choices=[("", "any"), *TaskStatus.choices], label="Task status")
    difficulty = forms.TypedChoiceField(
        required=False, choices=[("", "any"), *Difficulty.choices], coerce=int, empty_value=None
    )
    topic = forms.CharField(required=False, max_length=200, label="Topic contains")
    model_name = forms.CharField(required=False, max_length=200, label="Model name (responses)")
    limit = forms.IntegerField(min_value=1, max_value=MAX_BATCH, initial=100, help_text="At most this many items")
    reviewers = forms.ModelMultipleChoiceField(queryset=None, widget=forms.CheckboxSelectMultiple)
    k = forms.IntegerField(min_value=1, max_value=20, label="Reviewers per item (k)")

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        self.fields["reviewers"].queryset = User.objects.filter(
            memberships__project=project, role=Role.CLINICIAN, is_active=True
        ).order_by("name", "email")
        self.fields["reviewers"].label_from_instance = lambda u: (
            f"{u.get_full_name()} ({u.specialty or 'no specialty'})"
        )

    def chosen_reviewer_ids(self) -> set[int]:
        """The reviewers ticked in the posted form (none before it is posted), for the page to tick again."""
        if not self.is_bound:
            return set()
        return {int(value) for value in self.data.getlist("reviewers") if str(value).isdigit()}

    def clean_selection(self) -> list[int]:
        raw = self.cleaned_data.get("selection", "")
        ids, bad = [], []
        for token in re.split(r"[\s,;]+", raw.strip()):
            if not token:
                continue
            if token.isdigit():
                ids.append(int(token))
            else:
                bad.append(token)
        if bad:
            raise forms.ValidationError(f"Not item ids: {', '.join(bad[:10])}")
        if len(ids) > MAX_BATCH:
            raise forms.ValidationError(f"At most {MAX_BATCH} items in one batch.")
        return ids

    def item_ids(self) -> list[int]:
        data = self.cleaned_data
        if data["selection"]:
            return data["selection"]
        return assignable_item_ids(
            project=self.project,
            kind=data["kind"],
            limit=data["limit"],
            status=data["status"],
            difficulty=data["difficulty"],
            topic=data["topic"],
            model_name=data["model_name"],
        )
