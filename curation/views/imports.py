"""Curators bring files in (upload, watch the progress, read the report) and tidy the vocabulary afterwards."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from curation.access import access_import_job, access_imports, access_vocabulary
from curation.import_forms import ImportUploadForm, VocabularyMapForm, VocabularyMergeForm
from curation.models import VocabularyKind
from curation.selectors_imports import import_jobs_of, unmapped_values_of, vocabulary_terms_with_use
from curation.services.imports import FINISHED, import_job_create, import_max_bytes, upload_request_too_large
from curation.services.vocabulary import vocabulary_map_raw, vocabulary_term_merge

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
    return render(request, "curation/imports.html", context, status=status)


@login_required
def import_detail(request: HttpRequest, slug: str, job_id: int) -> HttpResponse:
    project = access_imports(user=request.user, slug=slug)
    job = access_import_job(user=request.user, job_id=job_id, project=project)
    template = "curation/import_detail.html" + ("#import-progress" if request.htmx else "")
    report = job.report or {}
    context = {
        "project": project,
        "job": job,
        "finished": job.status in FINISHED,
        "created": [(_LABELS.get(kind, kind), n) for kind, n in report.get("created", {}).items()],
        "skipped": [(_LABELS.get(kind, kind), n) for kind, n in report.get("skipped", {}).items() if n],
    }
    return render(request, template, context)


@login_required
def vocabulary(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_vocabulary(user=request.user, slug=slug)
    terms = vocabulary_terms_with_use(project=project)
    unmapped = unmapped_values_of(project=project)
    kinds = [
        {"kind": kind, "label": label, "terms": terms.get(kind, []), "unmapped": unmapped.get(kind, [])}
        for kind, label in VocabularyKind.choices
    ]
    return render(request, "curation/vocabulary.html", {"project": project, "kinds": kinds})


@login_required
@require_POST
def vocabulary_map(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_vocabulary(user=request.user, slug=slug)
    form = VocabularyMapForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("vocabulary", slug=project.slug)
    data = form.cleaned_data
    try:
        term, relinked = vocabulary_map_raw(kind=data["kind"], raw=data["raw"], term=data["term"])
    except ValidationError as exc:
        messages.error(request, f"“{data['raw']}” is still unmapped: {' '.join(exc.messages)}")
    else:
        messages.success(request, f"“{data['raw']}” now means {term.name}; {relinked} task(s) relinked.")
    return redirect("vocabulary", slug=project.slug)


@login_required
@require_POST
def vocabulary_merge(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_vocabulary(user=request.user, slug=slug)
    form = VocabularyMergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect("vocabulary", slug=project.slug)
    source, target = form.cleaned_data["source"], form.cleaned_data["target"]
    source_name = source.name
    try:
        relinked = vocabulary_term_merge(source=source, target=target)
    except ValidationError as exc:
        messages.error(request, f"Nothing merged: {' '.join(exc.messages)}")
    else:
        messages.success(request, f"Merged “{source_name}” into {target.name}; {relinked} task(s) relinked.")
    return redirect("vocabulary", slug=project.slug)


def _errors(form) -> str:
    return "Nothing changed: " + "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())
