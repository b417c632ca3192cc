"""Rating forms in HTML: what a RatingSchema's fields look like on the page, and reading them back from a POST.

The schema, not a Django form class, is the source of truth: the same definition checks the answers
on the server (curation.schema_definitions.clean_answers) whatever the client sent.
"""

import re
from typing import Any

from django import forms
from django.db.models import Q
from django.http import QueryDict

from accounts.models import Role, User
from curation.models import Difficulty, ModelResponse, SeedTask, TaskStatus
from curation.schema_definitions import field_options

PREFIX = "a-"
MAX_BATCH = 5000


def _number(raw: str) -> int | float | str:
    try:
        value = float(raw)
    except ValueError:
        return raw  # clean_answers reports it as "must be a finite number"
    return int(value) if value.is_integer() and "." not in raw else value


def answers_from_post(definition: dict, data: QueryDict) -> dict[str, Any]:
    """The answers a posted form carries, typed by field kind; empty fields are left out."""
    answers: dict[str, Any] = {}
    for field in definition["fields"]:
        name, kind = PREFIX + field["key"], field["kind"]
        if kind in ("multiple_choice", "rubric"):
            values = [v for v in data.getlist(name) if v]
            if values:
                answers[field["key"]] = values
            continue
        raw = (data.get(name) or "").replace("\r\n", "\n")
        if kind != "free_text":
            raw = raw.strip()
        if raw == "":
            continue
        if kind == "ordinal_scale":
            answers[field["key"]] = int(raw) if raw.lstrip("-").isdigit() else raw
        elif kind == "number":
            answers[field["key"]] = _number(raw)
        else:
            answers[field["key"]] = raw
    return answers


def form_fields(definition: dict, values: dict[str, Any], errors: dict[str, list[str]] | None = None) -> list[dict]:
    """Everything a template needs to draw each field with its current value and its errors."""
    errors = errors or {}
    fields = []
    for index, field in enumerate(definition["fields"]):
        key, kind = field["key"], field["kind"]
        value = values.get(key)
        entry = {
            "key": key,
            "name": PREFIX + key,
            "label": field.get("label") or key,
            "kind": kind,
            "required": bool(field.get("required")),
            "errors": errors.get(key, []),
            "index": index,
            "value": "" if value is None else value,
        }
        if kind in ("single_choice", "pairwise_choice", "multiple_choice"):
            chosen = value if isinstance(value, list) else [value]
            entry["choices"] = [
                {"value": o["value"], "label": o.get("label") or o["value"], "checked": o["value"] in chosen}
                for o in field_options(field)
            ]
        elif kind == "rubric":
            chosen = value if isinstance(value, list) else []
            entry["choices"] = [
                {"value": c["key"], "label": c.get("label") or c["key"], "checked": c["key"] in chosen}
                for c in field["criteria"]
            ]
        elif kind == "ordinal_scale":
            labels = field.get("labels", {})
            entry["choices"] = [
                {"value": str(n), "label": labels.get(str(n), ""), "checked": value == n or value == str(n)}
                for n in range(field["min"], field["max"] + 1)
            ]
        elif kind == "number":
            entry["min"], entry["max"] = field.get("min"), field.get("max")
        elif kind == "free_text":
            entry["max_length"] = field.get("max_length")
        entry["multiple"] = kind in ("multiple_choice", "rubric")
        fields.append(entry)
    return fields


class AssignForm(forms.Form):
    """A curator's batch: which items (a selection of ids, or a filter), to whom, and with how many reviewers."""

    kind = forms.ChoiceField(choices=[("seed_task", "Seed tasks"), ("response", "Model responses")])
    selection = forms.CharField(
        required=False,
        label="Selection",
        help_text="Item ids separated by commas or spaces. Leave empty to use the filter below.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    status = forms.ChoiceField(required=False, choices=[("", "any"), *TaskStatus.choices], label="Task status")
    difficulty = forms.TypedChoiceField(
        required=False, choices=[("", "any"), *Difficulty.choices], coerce=int, empty_value=None
    )
    topic = forms.CharField(required=False, max_length=200, label="Topic contains")
    model_name = forms.CharField(required=False, max_length=200, label="Model name (responses)")
    limit = forms.IntegerField(min_value=1, max_value=MAX_BATCH, initial=100, help_text="At most this many items")
    reviewers = forms.ModelMultipleChoiceField(queryset=None, widget=forms.CheckboxSelectMultiple)
    k = forms.IntegerField(min_value=1, max_value=20, label="Reviewers per item (k)")

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.project = project
        self.fields["reviewers"].queryset = User.objects.filter(
            memberships__project=project, role=Role.CLINICIAN, is_active=True
        ).order_by("name", "email")
        self.fields["reviewers"].label_from_instance = lambda u: (
            f"{u.get_full_name()} ({u.specialty or 'no specialty'})"
        )

    def clean_selection(self) -> list[int]:
        raw = self.cleaned_data.get("selection", "")
        ids, bad = [], []
        for token in re.split(r"[\s,;]+", raw.strip()):
            if not token:
                continue
            if token.isdigit():
                ids.append(int(token))
            else:
                bad.append(token)
        if bad:
            raise forms.ValidationError(f"Not item ids: {', '.join(bad[:10])}")
        if len(ids) > MAX_BATCH:
            raise forms.ValidationError(f"At most {MAX_BATCH} items in one batch.")
        return ids

    def item_ids(self) -> list[int]:
        data = self.cleaned_data
        if data["selection"]:
            return data["selection"]
        if data["kind"] == "seed_task":
            items = SeedTask.objects.filter(project=self.project)
            if data["status"]:
                items = items.filter(status=data["status"])
            if data["difficulty"]:
                items = items.filter(difficulty=data["difficulty"])
            if data["topic"]:
                items = items.filter(topic_raw__icontains=data["topic"])
        else:
            items = ModelResponse.objects.filter(Q(seed_task__project=self.project) | Q(prompt__project=self.project))
            if data["model_name"]:
                items = items.filter(model_name=data["model_name"])
            if data["status"]:
                items = items.filter(seed_task__status=data["status"])
            if data["difficulty"]:
                items = items.filter(
                    Q(seed_task__difficulty=data["difficulty"]) | Q(prompt__difficulty=data["difficulty"])
                )
            if data["topic"]:
                items = items.filter(seed_task__topic_raw__icontains=data["topic"])
        return list(items.order_by("pk").values_list("pk", flat=True)[: data["limit"]])
