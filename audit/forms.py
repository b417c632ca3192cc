from django import forms

from accounts.models import User
from curation.models import Project

from .models import AuditAction


class AuditFilterForm(forms.Form):
    """The audit page's and export's filters; every field may be left empty."""

    person = forms.ModelChoiceField(queryset=User.objects.order_by("email"), required=False, empty_label="Anyone")
    project = forms.ModelChoiceField(queryset=Project.objects.order_by("name"), required=False, empty_label="Any")
    action = forms.ChoiceField(choices=[("", "Any"), *AuditAction.choices], required=False)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(f"'From' ({data['since']}) is after 'To' ({data['until']}).")
        return data

    def selector_filters(self) -> dict:
        """The cleaned filters as audit.selectors.audit_events takes them. Call after is_valid()."""
        data = self.cleaned_data
        return {
            "actor_id": data["person"].pk if data.get("person") else None,
            "project_id": data["project"].pk if data.get("project") else None,
            "action": data.get("action") or "",
            "since": data.get("since"),
            "until": data.get("until"),
        }
