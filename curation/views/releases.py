"""The releases page: list a project's releases, define a new one, follow its build, download it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from curation.access import access_release, access_releases
from curation.forms.releases import ReleaseForm
from curation.release_downloads import release_card_response, release_file_response
from curation.releases_definition import ReleaseDefinition, filters_shown
from curation.selectors.release_counts import release_empty_hint, release_row_count
from curation.selectors.releases import releases_of
from curation.services.release_attempts import releases_recover_stale
from curation.services.releases import ReleaseNotRetryable, release_create, release_retry


@login_required
@require_http_methods(["GET", "POST"])
def release_list(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_releases(user=request.user, slug=slug)
    form = ReleaseForm(request.POST or None, project=project)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                release = release_create(
                    project=project,
                    created_by=request.user,
                    format=data["format"],
                    filters=form.filters(),
                    title=data["title"],
                    purpose=data["purpose"],
                    license=data["license"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                return redirect("release_detail", slug=project.slug, release_id=release.pk)
        status = 400
    else:
        releases_recover_stale()
    return render(
        request,
        "curation/releases/list.html",
        {"project": project, "form": form, "releases": releases_of(project=project)},
        status=status,
    )


@login_required
@require_GET
def release_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """What the release form's definition would give if built now: its row count, or why it gives none.

    The form asks for it (htmx) whenever one of its fields changes, with the form's values.
    """
    project = access_releases(user=request.user, slug=slug)
    form = ReleaseForm(request.GET, project=project)
    context: dict = {"errors": {}, "count": None, "hint": ""}
    form.is_valid()
    try:
        definition = ReleaseDefinition.from_data(
            project=project, format=form.cleaned_data.get("format"), filters=form.filters()
        )
    except ValidationError as exc:
        context["errors"] = exc.message_dict
    else:
        read = {"project": project, "format": definition.format, "filters": definition.filters}
        context["count"] = release_row_count(**read)
        if not context["count"].rows:
            context["hint"] = release_empty_hint(**read)
    return render(request, "curation/releases/preview.html", context)


@login_required
def release_detail(request: HttpRequest, slug: str, release_id: int) -> HttpResponse:
    project = access_releases(user=request.user, slug=slug)
    releases_recover_stale()
    release = access_release(user=request.user, release_id=release_id, project=project)
    template = "curation/releases/detail.html" + ("#release-status" if request.htmx else "")
    return render(
        request,
        template,
        {
            "project": project,
            "release": release,
            "filters": filters_shown(format=release.format, filters=release.filters),
        },
    )


@login_required
def release_download(request: HttpRequest, slug: str, release_id: int) -> HttpResponse:
    project = access_releases(user=request.user, slug=slug)
    release = access_release(user=request.user, release_id=release_id, project=project)
    return release_file_response(release)


@login_required
def release_card(request: HttpRequest, slug: str, release_id: int) -> HttpResponse:
    project = access_releases(user=request.user, slug=slug)
    release = access_release(user=request.user, release_id=release_id, project=project)
    return release_card_response(release)


@login_required
@require_POST
def release_retry_view(request: HttpRequest, slug: str, release_id: int) -> HttpResponse:
    project = access_releases(user=request.user, slug=slug)
    release = access_release(user=request.user, release_id=release_id, project=project)
    try:
        release_retry(release_id=release.pk, actor=request.user)
    except ReleaseNotRetryable as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Release {release.pk} is queued again.")
    return redirect("release_detail", slug=project.slug, release_id=release.pk)
