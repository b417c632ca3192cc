from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html

from .models import Role


class InvitationForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.CLINICIAN)
    name = forms.CharField(max_length=150, required=False)
    specialty = forms.CharField(max_length=120, required=False, help_text="e.g. cardiology")
    credentials = forms.CharField(max_length=120, required=False, help_text='e.g. "MD, cardiology"')


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
