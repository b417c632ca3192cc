"""Creating a project in the app, changing its settings, archiving and unarchiving it: curators and admins."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from curation.access import access_project_settings, require_curator
from curation.forms.project_settings import ProjectCreateForm, ProjectSettingsForm
from curation.selectors.adjudication import adjudication_settings_of
from curation.selectors.project_settings import projects_archived, projects_to_copy_from
from curation.services.projects import OverlapPolicy, project_archive, project_create, project_update


def _refused(form, exc: ValidationError) -> None:
    """A service's refusal shown on the form: on the field it names, else above the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
@require_http_methods(["GET", "POST"])
def project_create_view(request: HttpRequest) -> HttpResponse:
    require_curator(user=request.user)
    form = ProjectCreateForm(request.POST or None, templates=projects_to_copy_from(user=request.user))
    if request.method == "POST" and form.is_valid():
        try:
            project = project_create(
                **form.settings(),
                slug=form.cleaned_data["slug"],
                created_by=request.user,
                template=form.cleaned_data["template"],
                overlap=form.overlap(),
            )
        except ValidationError as exc:
            _refused(form, exc)
        else:
            messages.success(request, f"Created {project.name}. Add its members, then import its items.")
            return redirect("member_list", slug=project.slug)
    status = 400 if form.errors else 200
    return render(request, "curation/projects/create.html", {"form": form}, status=status)


@login_required
def project_archived_list(request: HttpRequest) -> HttpResponse:
    require_curator(user=request.user)
    return render(request, "curation/projects/archived.html", {"projects": projects_archived(user=request.user)})


@login_required
@require_POST
def guidelines_preview(request: HttpRequest) -> HttpResponse:
    """The guidelines being typed, as reviewers will read them (an htmx fragment)."""
    require_curator(user=request.user)
    return render(request, "curation/projects/guidelines_preview.html", {"text": request.POST.get("guidelines", "")})


def _overlap_of(project) -> OverlapPolicy:
    current = adjudication_settings_of(project=project)
    return OverlapPolicy(rule=current.rule, min_spread=current.min_spread, dynamic_overlap=current.dynamic_overlap)


@login_required
@require_http_methods(["GET", "POST"])
def project_settings(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_project_settings(user=request.user, slug=slug)
    saved_guidelines = project.guidelines_version
    form = ProjectSettingsForm(request.POST or None, instance=project, overlap=_overlap_of(project))
    if request.method == "POST" and form.is_valid():
        try:
            project_update(project=project, actor=request.user, **form.settings(), overlap=form.overlap())
        except ValidationError as exc:
            _refused(form, exc)
        else:
            note = (
                f" The guidelines are now version {project.guidelines_version}."
                if (project.guidelines_version != saved_guidelines)
                else ""
            )
            messages.success(request, f"Saved the settings of {project.name}.{note}")
            return redirect("project_settings", slug=project.slug)
    if form.errors:
        project.refresh_from_db()  # a refused form leaves its values on the instance; the heading shows the saved ones
    context = {"project": project, "form": form}
    return render(request, "curation/projects/settings.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def project_archive_view(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_project_settings(user=request.user, slug=slug)
    project_archive(project=project, actor=request.user)
    messages.success(request, f"Archived {project.name}: it takes no new assignments or imports and stays readable.")
    return redirect("project_settings", slug=project.slug)


@login_required
@require_POST
def project_unarchive_view(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_project_settings(user=request.user, slug=slug)
    project_archive(project=project, actor=request.user, archived=False)
    messages.success(request, f"{project.name} is open again and back on the dashboard.")
    return redirect("project_settings", slug=project.slug)
