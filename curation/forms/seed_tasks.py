from django import forms

from curation.models import Difficulty


class SeedTaskEditForm(forms.Form):
    instruction = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    input = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    reference_output = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), required=False)
    topic_raw = forms.CharField(label="Topic", required=False, max_length=200)
    view_raw = forms.CharField(label="View", required=False, max_length=200)
    task_type_raw = forms.CharField(label="Type", required=False, max_length=200)
    difficulty = forms.TypedChoiceField(
        choices=[("", "-"), *Difficulty.choices], coerce=int, empty_value=None, required=False
    )
    rationale = forms.CharField(max_length=100, help_text="Why this edit? Required: it is kept in the task's history.")
    version = forms.IntegerField(widget=forms.HiddenInput)

    # Textareas post "\r\n"; keep the stored text's own line endings so an untouched field is no change.
    def clean(self):
        data = super().clean()
        for name in ("instruction", "input", "reference_output"):
            if isinstance(data.get(name), str):
                data[name] = data[name].replace("\r\n", "\n")
        return data
