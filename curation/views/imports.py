"""Curators bring files in (upload, watch the progress, read the report) and tidy the vocabulary afterwards."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from curation.access import access_import_job, access_imports
from curation.forms.imports import ImportUploadForm
from curation.selectors.imports import import_jobs_of
from curation.services.imports import FINISHED, import_job_create, import_max_bytes, upload_request_too_large

RECENT_JOBS = 20
_LABELS = {"seed_tasks": "seed tasks", "prompts": "test prompts", "responses": "model responses"}


@login_required
def import_list(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_imports(user=request.user, slug=slug)
    form = ImportUploadForm()
    status, refused = 200, None
    if request.method == "POST" and (refused := upload_request_too_large(request.META.get("CONTENT_LENGTH"))):
        status = 413
    elif request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = import_job_create(
                    project=project,
                    upload=form.cleaned_data["file"],
                    created_by=request.user,
                    format=form.cleaned_data["format"],
                    model_name=form.cleaned_data["model_name"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                return redirect("import_detail", slug=project.slug, job_id=job.pk)
        status = 400
    jobs = import_jobs_of(project=project)[:RECENT_JOBS]
    max_mb = import_max_bytes() // (1024 * 1024)
    context = {"project": project, "form": form, "jobs": jobs, "max_mb": max_mb, "refused": refused}
    return render(request, "curation/imports/list.html", context, status=status)


@login_required
def import_detail(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    project = access_imports(user=request.user, slug=slug)
    job = access_import_job(user=request.user, job_id=job_id, project=project)
    template = "curation/imports/detail.html" + ("#import-progress" if request.htmx else "")
    report = job.report or {}
    context = {
        "project": project,
        "job": job,
        "finished": job.status in FINISHED,
        "created": [(_LABELS.get(kind, kind), n) for kind, n in report.get("created", {}).items()],
        "skipped": [(_LABELS.get(kind, kind), n) for kind, n in report.get("skipped", {}).items() if n],
    }
    return render(request, template, context)
