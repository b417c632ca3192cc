"""A project's settings as a form: creating one, changing it later. The rating-form editor reads its fields
from curation.forms.rating_forms."""

from django import forms

from curation.models import Project, ReviewVisibility
from curation.models.adjudication import DisagreementRule
from curation.services.projects import OverlapPolicy

_PROJECT_FIELDS = ["name", "description", "guidelines", "reviewers_per_item", "review_visibility"]
# Who may edit tasks, and what an edit of an accepted task does: settings of a running project, not of a new one.
_EDIT_POLICY_FIELDS = ["task_editors", "accepted_task_edits"]


class ProjectSettingsForm(forms.ModelForm):
    """Name, guidelines, k, visibility and the overlap policy (the project's adjudication settings)."""

    rule = forms.ChoiceField(
        choices=DisagreementRule.choices, initial=DisagreementRule.SPREAD, label="Which reviews disagree"
    )
    min_spread = forms.IntegerField(
        min_value=1,
        max_value=20,
        initial=2,
        label="Minimum spread",
        help_text="Under the spread rule: how far apart two ratings on a scale must be",
    )
    dynamic_overlap = forms.BooleanField(
        required=False,
        label="Dynamic overlap",
        help_text="When the first k reviewers disagree, the item goes to one more reviewer",
    )

    class Meta:
        model = Project
        fields = [*_PROJECT_FIELDS, *_EDIT_POLICY_FIELDS]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "guidelines": forms.Textarea(attrs={"rows": 14}),
            "reviewers_per_item": forms.NumberInput(attrs={"min": 1, "max": 20}),
            "review_visibility": forms.RadioSelect,
        }
        labels = {
            "reviewers_per_item": "Reviewers per item (k)",
            "review_visibility": "After submitting, a reviewer sees",
        }

    def __init__(self, *args, overlap: OverlapPolicy | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if overlap is not None:
            self.initial.update(
                rule=overlap.rule, min_spread=overlap.min_spread, dynamic_overlap=overlap.dynamic_overlap
            )
        self.fields["guidelines"].help_text = "Markdown; the preview shows it as reviewers will."

    def clean_reviewers_per_item(self) -> int:
        value = self.cleaned_data["reviewers_per_item"]
        if not 1 <= value <= 20:
            raise forms.ValidationError("Choose from 1 to 20 reviewers per item.")
        return value

    def overlap(self) -> OverlapPolicy:
        data = self.cleaned_data
        return OverlapPolicy(rule=data["rule"], min_spread=data["min_spread"], dynamic_overlap=data["dynamic_overlap"])

    def settings(self) -> dict:
        """The cleaned project settings, as keyword arguments of project_create and project_update."""
        return {
            field: self.cleaned_data[field]
            for field in [*_PROJECT_FIELDS, *_EDIT_POLICY_FIELDS]
            if field in self.fields
        }


class ProjectCreateForm(ProjectSettingsForm):
    """The settings plus the project's address and, optionally, another project whose forms it starts with."""

    template = forms.ModelChoiceField(
        queryset=Project.objects.none(),
        required=False,
        label="Copy rating forms from",
        empty_label="None: start with the default forms",
        help_text="Its current seed-review and response-review forms (and its guidelines, if you leave them empty)",
    )

    class Meta(ProjectSettingsForm.Meta):
        fields = ["name", "slug", *_PROJECT_FIELDS[1:]]
        help_texts = {"slug": "Letters, digits and hyphens; part of the project's address, not changed later"}
        labels = {**ProjectSettingsForm.Meta.labels, "slug": "Short name"}

    def __init__(self, *args, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates
        self.initial.setdefault("review_visibility", ReviewVisibility.AFTER_ADJUDICATION)
        self.initial.setdefault("reviewers_per_item", 2)
