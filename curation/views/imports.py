"""Curators bring files in (upload, check the preview, confirm, watch the progress, read the report)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from curation.access import access_import_job, access_imports
from curation.forms.imports import ImportConfirmForm, ImportUploadForm
from curation.models import ImportStatus
from curation.selectors.imports import import_jobs_of
from curation.services.imports import (
    FINISHED,
    import_job_confirm,
    import_job_create,
    import_job_reconsider,
    import_jobs_recover_stale,
    import_max_bytes,
    import_options,
    upload_request_too_large,
)

RECENT_JOBS = 20
_LABELS = {"seed_tasks": "seed tasks", "prompts": "test prompts", "responses": "model responses"}


def _errors_to_form(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


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
                    options=import_options(mapping=form.cleaned_data["mapping"]),
                    confirm=False,
                )
            except ValidationError as exc:
                _errors_to_form(form, exc)
            else:
                return redirect("import_detail", slug=project.slug, job_id=job.pk)
        status = 400
    else:
        import_jobs_recover_stale()
    jobs = import_jobs_of(project=project)[:RECENT_JOBS]
    max_mb = import_max_bytes() // (1024 * 1024)
    context = {"project": project, "form": form, "jobs": jobs, "max_mb": max_mb, "refused": refused}
    return render(request, "curation/imports/list.html", context, status=status)


def _confirm(request: HttpRequest, job) -> tuple[ImportConfirmForm, bool]:
    """Apply the person's decision on a waiting job: preview again with new choices, or import."""
    form = ImportConfirmForm(request.POST)
    if not form.is_valid():
        return form, False
    data = form.cleaned_data
    try:
        options = import_options(
            mapping=data["mapping"],
            accept_unknown_fields=data["accept_unknown_fields"],
            allow_duplicate_answers=data["allow_duplicate_answers"],
        )
        choices = {"format": data["format"], "model_name": data["model_name"], "options": options}
        if "reconsider" in request.POST:
            import_job_reconsider(job=job, **choices)
            return form, True
        import_job_confirm(job=job, **choices)
    except ValidationError as exc:
        _errors_to_form(form, exc)
        return form, False
    return form, True


@login_required
def import_detail(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    project = access_imports(user=request.user, slug=slug)
    import_jobs_recover_stale()
    job = access_import_job(user=request.user, job_id=job_id, project=project)
    confirm_form, status = None, 200
    if request.method == "POST":
        confirm_form, done = _confirm(request, job)
        if done:
            return redirect("import_detail", slug=project.slug, job_id=job.pk)
        status = 400
    elif job.status == ImportStatus.PREVIEW:
        mapping = ",".join(f"{k}={v}" for k, v in (job.options.get("mapping") or {}).items())
        confirm_form = ImportConfirmForm(
            initial={"format": job.format, "model_name": job.model_name, "mapping": mapping}
        )
    template = "curation/imports/detail.html" + ("#import-progress" if request.htmx else "")
    report = job.report or {}
    context = {
        "project": project,
        "job": job,
        "finished": job.status in FINISHED or job.status == ImportStatus.PREVIEW,
        "confirm_form": confirm_form,
        "preview": report.get("preview", {}),
        "created": [(_LABELS.get(kind, kind), n) for kind, n in report.get("created", {}).items()],
        "skipped": [(_LABELS.get(kind, kind), n) for kind, n in report.get("skipped", {}).items() if n],
    }
    return render(request, template, context, status=status)
