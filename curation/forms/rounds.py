"""The round setup form. The service (curation.services.rounds.round_create) holds the rules; this
form only turns the page's inputs into its arguments."""

from django import forms

from accounts.models import User
from curation.models import Project, RoundMode, RoundPairing, RoundQuestion
from curation.selectors.rounds import project_model_choices

SEP = "::"


class RoundCreateForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="Reviewers see this name: do not name the models in it.")
    mode = forms.ChoiceField(choices=RoundMode.choices, initial=RoundMode.PAIRWISE, widget=forms.RadioSelect)
    question = forms.ChoiceField(
        choices=RoundQuestion.choices,
        initial=RoundQuestion.FORM,
        widget=forms.RadioSelect,
        label="Question",
        required=False,  # the rating form, as before the question could be chosen
        help_text="Rubric grading takes only prompts with an accepted rubric.",
    )
    models = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, label="Models compared", help_text="From the project's model responses"
    )
    reference_model = forms.ChoiceField(required=False, label="Reference model (optional)")
    pairing = forms.ChoiceField(choices=RoundPairing.choices, initial=RoundPairing.ALL_PAIRS, label="Pairs (pairwise)")
    prompt_scope = forms.ChoiceField(
        choices=[("all", "All prompts every chosen model answered"), ("sample", "A random sample of them")],
        initial="all",
        widget=forms.RadioSelect,
        label="Prompts",
    )
    sample_size = forms.IntegerField(required=False, min_value=1, label="Sample size")
    seed = forms.IntegerField(min_value=0, initial=1, help_text="Fixes the sample and the left/right order")
    judgments_per_item = forms.IntegerField(min_value=1, max_value=20, initial=2, label="Judgments per item")
    reviewers = forms.ModelMultipleChoiceField(queryset=User.objects.none(), widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        choices = []
        for model in project_model_choices(project=project):
            label = model["name"] + (f" (version {model['version']})" if model["version"] else "")
            choices.append((f"{model['name']}{SEP}{model['version']}", f"{label}: {model['prompts']} prompts"))
        self.fields["models"].choices = choices
        names = sorted({value.rsplit(SEP, 1)[0] for value, _ in choices})
        self.fields["reference_model"].choices = [("", "No reference"), *((n, n) for n in names)]
        self.fields["reviewers"].queryset = User.objects.filter(memberships__project=project, is_active=True).order_by(
            "name", "email"
        )
        self.fields["reviewers"].label_from_instance = lambda u: f"{u.get_full_name() or u.email} ({u.email})"

    def clean(self):
        data = super().clean()
        if data.get("prompt_scope") == "sample" and not data.get("sample_size"):
            self.add_error("sample_size", "Give the number of prompts to sample.")
        return data

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        models = []
        for value in data["models"]:
            name, version = value.rsplit(SEP, 1)
            models.append({"name": name, "version": version})
        return {
            "name": data["name"],
            "mode": data["mode"],
            "question": data["question"] or RoundQuestion.FORM,
            "models": models,
            "reference_model": data["reference_model"],
            "pairing": data["pairing"],
            "judgments_per_item": data["judgments_per_item"],
            "reviewers": list(data["reviewers"]),
            "sample_size": data["sample_size"] if data["prompt_scope"] == "sample" else None,
            "seed": data["seed"],
        }
