"""The rating-form editor: curators change a project's seed-review and response-review forms, seeing the
form as a clinician will. Saving makes a new version; reviews already made keep theirs."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from curation.access import access_project_settings
from curation.forms.rating_forms import (
    CRITERIA_SOURCES,
    KINDS,
    LEVEL_LABELS,
    definition_from_post,
    editor_rows,
    new_field,
)
from curation.forms.reviews import form_fields
from curation.models import Project, RatingSchema, SchemaTarget
from curation.schemas.definitions import FIELD_KINDS
from curation.services.projects import rating_form_update

TARGETS = {"seed": SchemaTarget.SEED_TASK, "response": SchemaTarget.RESPONSE}


def _form_of(project: Project, target: str) -> RatingSchema | None:
    if target not in TARGETS:
        raise Http404("No such rating form")
    return project.seed_schema if target == "seed" else project.response_schema


@login_required
@require_http_methods(["GET", "POST"])
def rating_form_edit(request: HttpRequest, slug: str, target: str) -> HttpResponse:
    """GET shows the current form; POST either saves it (`action=save`) or redraws the editor after adding,
    moving or removing a field, or changing a field's kind."""
    project = access_project_settings(user=request.user, slug=slug)
    current = _form_of(project, target)
    action = request.POST.get("action", "")
    if request.method == "GET":
        definition, general, by_field = (current.definition if current else {"fields": []}), [], {}
    else:
        definition, general, by_field = definition_from_post(request.POST)
    if action == "add" and request.POST.get("new_kind") in FIELD_KINDS:
        taken = {f.get("key") for f in definition["fields"]}
        definition["fields"].append(new_field(request.POST["new_kind"], taken))
    if action == "save" and not (general or by_field):
        try:
            schema = rating_form_update(
                project=project, target=TARGETS[target], definition=definition, actor=request.user
            )
        except ValidationError as exc:
            general = exc.messages
        else:
            if schema == current:
                messages.info(request, f"No change: {schema.name} stays at version {schema.version}.")
            else:
                messages.success(
                    request, f"Saved {schema.name} version {schema.version}; reviews already made keep theirs."
                )
            return redirect("rating_form_edit", slug=project.slug, target=target)
    context = {
        "project": project,
        "target": target,
        "current": current,
        "rows": editor_rows(definition, by_field),
        "general_errors": general,
        "kinds": KINDS,
        "levels": LEVEL_LABELS.items(),
        "criteria_sources": CRITERIA_SOURCES,
    }
    status = 400 if action == "save" else 200  # a save that reached here was refused
    return render(request, "curation/projects/rating_form.html", context, status=status)


@login_required
@require_POST
def rating_form_preview(request: HttpRequest, slug: str, target: str) -> HttpResponse:
    """The form being edited as a clinician will see it (an htmx fragment): every field that is valid, drawn
    as the review page draws it, and what is wrong with the others."""
    project = access_project_settings(user=request.user, slug=slug)
    _form_of(project, target)
    definition, general, by_field = definition_from_post(request.POST)
    shown = [field for index, field in enumerate(definition["fields"]) if index not in by_field]
    problems = [
        (index + 1, definition["fields"][index].get("label") or definition["fields"][index].get("key"), found)
        for index, found in sorted(by_field.items())
    ]
    fields = form_fields({"fields": shown}, {}, preview=True)
    context = {"fields": fields, "general_errors": general, "problems": problems}
    return render(request, "curation/projects/rating_form_preview.html", context)
