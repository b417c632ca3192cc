from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.core.validators import MaxValueValidator

from curation.models import Project

from .models import Role, TokenScope


class InvitationForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.CLINICIAN)
    name = forms.CharField(max_length=150, required=False)
    specialty = forms.CharField(max_length=120, required=False, help_text="e.g. cardiology")
    credentials = forms.CharField(max_length=120, required=False, help_text='e.g. "MD, cardiology"')
    projects = forms.ModelMultipleChoiceField(
        queryset=Project.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The person joins these projects when they accept",
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class SetPasswordForm(forms.Form):
    password1 = forms.CharField(
        label="Password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return data


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text='What it is for, e.g. "nightly export"')
    scope = forms.ChoiceField(choices=TokenScope.choices, initial=TokenScope.READ)
    days = forms.IntegerField(label="Valid for (days)", min_value=1)

    def __init__(self, *args, max_days: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["days"].max_value = max_days
        self.fields["days"].initial = max_days
        self.fields["days"].validators.append(MaxValueValidator(max_days))
        self.fields["days"].widget.attrs["max"] = max_days
