from django import forms

from curation.models import ImportFormat


class ImportUploadForm(forms.Form):
    file = forms.FileField(help_text="JSON array, JSON Lines or CSV with a header row (UTF-8).")
    format = forms.ChoiceField(
        choices=[("", "Detect from the file"), *ImportFormat.choices],
        required=False,
        help_text="Needed only when the file's format cannot be told from its first record.",
    )
    model_name = forms.CharField(
        label="Model",
        required=False,
        max_length=200,
        help_text="For model outputs: the model that wrote them (default: the file name).",
    )
