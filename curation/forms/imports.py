from django import forms

from curation.models import ImportFormat


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        help_text="JSON array, JSON Lines or CSV with a header row (UTF-8), or a .zip of such files."
    )
    format = forms.ChoiceField(
        choices=[("", "Read from the records"), *ImportFormat.choices],
        required=False,
        help_text="Only to override the reading the preview shows.",
    )
    model_name = forms.CharField(
        label="Model",
        required=False,
        max_length=200,
        help_text="For model outputs: the model that wrote them (default: the records' generator, else the path).",
    )
    mapping = forms.CharField(
        label="Column mapping",
        required=False,
        max_length=1000,
        help_text="field=column pairs, for example instruction=question,output=answer.",
    )


class ImportConfirmForm(forms.Form):
    """What the person decides after seeing the preview."""

    format = forms.ChoiceField(choices=[("", "Read from the records"), *ImportFormat.choices], required=False)
    model_name = forms.CharField(label="Model", required=False, max_length=200)
    mapping = forms.CharField(label="Column mapping", required=False, max_length=1000)
    accept_unknown_fields = forms.BooleanField(required=False, label="Import without the fields listed as not stored")
    allow_duplicate_answers = forms.BooleanField(
        required=False, label="Allow answers identical to another model's already in the project"
    )
