"""Forms for the adjudication pages. The gold form is built from the rating schema, field by field."""

from typing import Any

from django import forms
from django.http import QueryDict

from curation.models import AcceptanceAction, AdjudicationSettings, RatingSchema, ReasonCode
from curation.selectors.adjudication_item import value_labels

PREFIX = "gold_"


def gold_inputs(*, schema: RatingSchema, values: dict[str, Any], errors: dict[str, str]) -> list[dict]:
    """One entry per schema field with what the template needs to draw its input, prefilled from `values`."""
    inputs = []
    for schema_field in schema.fields:
        key, kind = schema_field["key"], schema_field["kind"]
        value = values.get(key)
        entry = {
            "key": key,
            "name": PREFIX + key,
            "label": schema_field.get("label") or key,
            "kind": kind,
            "required": bool(schema_field.get("required")),
            "value": "" if value is None else value,
            "error": errors.get(key, ""),
            "min": schema_field.get("min"),
            "max": schema_field.get("max"),
        }
        if kind in ("single_choice", "pairwise_choice", "ordinal_scale", "multiple_choice", "rubric"):
            selected = (
                {str(v) for v in value} if isinstance(value, list) else {str(value)} if value is not None else set()
            )
            entry["options"] = [
                {"value": v, "label": label, "selected": v in selected}
                for v, label in value_labels(schema_field).items()
            ]
        inputs.append(entry)
    return inputs


def gold_values_from_post(*, schema: RatingSchema, data: QueryDict) -> tuple[dict[str, Any], dict[str, str]]:
    """The posted gold values typed as the schema expects; text that is not a number is an error here,
    everything else is checked by the service against the schema."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for schema_field in schema.fields:
        key, kind = schema_field["key"], schema_field["kind"]
        name = PREFIX + key
        if kind in ("multiple_choice", "rubric"):
            values[key] = data.getlist(name)
            continue
        raw = data.get(name, "")
        raw = raw.strip() if kind != "free_text" else raw.replace("\r\n", "\n")
        if raw == "":
            continue
        if kind == "ordinal_scale":
            try:
                values[key] = int(raw)
            except ValueError:
                errors[key] = "must be a whole number"
        elif kind == "number":
            try:
                number = float(raw)
            except ValueError:
                errors[key] = "must be a number"
            else:
                values[key] = int(number) if number.is_integer() else number
        else:
            values[key] = raw
    return values, errors


class GoldMetaForm(forms.Form):
    reason = forms.ChoiceField(choices=[("", "Choose a reason"), *ReasonCode.choices], label="Reason")
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=4000)
    final_text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        label="Final text",
        help_text="The settled text of the item; leave blank to keep the original.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def clean_final_text(self):
        return self.cleaned_data["final_text"].replace("\r\n", "\n")


class DecisionForm(forms.Form):
    action = forms.ChoiceField(choices=AcceptanceAction.choices)
    rationale = forms.CharField(required=False, max_length=4000)


class BulkDecisionForm(forms.Form):
    action = forms.ChoiceField(choices=AcceptanceAction.choices, initial=AcceptanceAction.ACCEPT)
    skip_disputed = forms.BooleanField(required=False, initial=True, label="Leave out tasks with an open disagreement")


class AdjudicationSettingsForm(forms.ModelForm):
    class Meta:
        model = AdjudicationSettings
        fields = ["rule", "min_spread", "dynamic_overlap"]
        widgets = {"min_spread": forms.NumberInput(attrs={"min": 1, "max": 20})}

    def clean_min_spread(self):
        value = self.cleaned_data["min_spread"]
        if not 1 <= value <= 20:
            raise forms.ValidationError("Choose a spread from 1 to 20.")
        return value
