"""The vocabulary page: map raw topic, view and type spellings to terms, merge terms."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from curation.access import access_vocabulary
from curation.forms.vocabulary import VocabularyMapForm, VocabularyMergeForm
from curation.selectors.vocabulary import vocabulary_use_of
from curation.services.vocabulary import vocabulary_map_raw, vocabulary_term_merge


@login_required
def vocabulary(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_vocabulary(user=request.user, slug=slug)
    kinds = vocabulary_use_of(project=project)
    return render(request, "curation/vocabulary/list.html", {"project": project, "kinds": kinds})


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
