"""Forms of the vocabulary page."""

from django import forms

from curation.models import VocabularyKind, VocabularyTerm


class VocabularyMapForm(forms.Form):
    kind = forms.ChoiceField(choices=VocabularyKind.choices, widget=forms.HiddenInput)
    raw = forms.CharField(max_length=200, widget=forms.HiddenInput)
    term = forms.ModelChoiceField(
        queryset=VocabularyTerm.objects.all(), required=False, empty_label="(a new term with this name)"
    )


class VocabularyMergeForm(forms.Form):
    source = forms.ModelChoiceField(queryset=VocabularyTerm.objects.all(), widget=forms.HiddenInput)
    target = forms.ModelChoiceField(queryset=VocabularyTerm.objects.all(), label="Merge into")
