"""The release form: its filter fields are built from curation.releases_definition.ReleaseFilters.

The filter fields only gather what was posted; ReleaseDefinition (through release_create) reads and
checks it, so the page refuses what the API and the command line refuse, with the same messages.
"""

from typing import Any

from django import forms

from curation.models import Project, ReleaseFormat
from curation.releases_definition import FilterSpec, ReleaseFilters
from curation.selectors.releases import TERM_FIELDS, release_round_choices, release_term_choices
from curation.services.releases import DEFAULT_LICENSE


class _Posted:
    """A field that passes on what was posted; the release definition judges it."""

    def validate(self, value: Any) -> None:
        pass


class _PostedChoice(_Posted, forms.ChoiceField):
    pass


class _PostedChoices(_Posted, forms.MultipleChoiceField):
    pass


class _PostedText(_Posted, forms.CharField):
    pass


class _PostedFlag(_Posted, forms.BooleanField):
    pass


def _number_input(spec: FilterSpec) -> forms.NumberInput:
    attrs: dict[str, Any] = {"min": spec.minimum}
    if spec.kind == "share":
        attrs |= {"max": spec.maximum, "step": "any"}
    return forms.NumberInput(attrs=attrs)


# The widget of each kind of filter, as the page shows it.
WIDGETS = {
    "choices": lambda spec: forms.CheckboxSelectMultiple,
    "levels": lambda spec: forms.CheckboxSelectMultiple,
    "names": lambda spec: forms.SelectMultiple(attrs={"size": 4}),
    "ids": lambda spec: forms.SelectMultiple(attrs={"size": 3}),
    "count": _number_input,
    "share": _number_input,
    "date": lambda spec: forms.DateInput(attrs={"type": "date"}),
    "text": lambda spec: forms.Textarea(attrs={"rows": 2}),
    "key": lambda spec: forms.TextInput,
    "flag": lambda spec: forms.CheckboxInput,
}


def filter_field(name: str, spec: FilterSpec) -> forms.Field:
    """The form field of one filter: its label, help, widget and initial value from the definition."""
    initial = ReleaseFilters.defaults()[name]
    options: dict[str, Any] = {
        "label": spec.label,
        "help_text": spec.help,
        "required": False,
        "widget": WIDGETS[spec.kind](spec),
        "initial": initial,
    }
    if spec.is_list:
        return _PostedChoices(choices=spec.choices, **options)
    if spec.kind == "flag":
        return _PostedFlag(**options)
    return _PostedText(strip=False, **options)


class ReleaseForm(forms.Form):
    """The release definition as a page posts it: the release's own fields, then one field per filter."""

    title = forms.CharField(max_length=200, required=False, help_text="Defaults to the project and format")
    format = _PostedChoice(choices=ReleaseFormat.choices, initial=ReleaseFormat.ALPACA)
    purpose = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, help_text="For the card")
    license = forms.CharField(max_length=200, initial=DEFAULT_LICENSE)

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        for name, spec in ReleaseFilters.specs().items():
            self.fields[name] = filter_field(name, spec)
        for name in TERM_FIELDS:
            self.fields[name].choices = [(label, label) for label in release_term_choices(project=project, name=name)]
        self.fields["rounds"].choices = [
            (r.pk, f"#{r.pk} {r.name} ({r.get_status_display().split(':')[0].lower()})")
            for r in release_round_choices(project=project)
        ]

    def filters(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in ReleaseFilters.specs()}
