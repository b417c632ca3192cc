from django import forms


class MemberAddForm(forms.Form):
    people = forms.ModelMultipleChoiceField(queryset=None, widget=forms.CheckboxSelectMultiple, label="Add people")

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["people"].queryset = people
        self.fields["people"].label_from_instance = lambda u: (
            f"{u.get_full_name()} · {u.get_role_display()}{f' · {u.specialty}' if u.specialty else ''}"
        )
