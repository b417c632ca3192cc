"""The curators' attention list of unsafe and PHI flags, and clearing a flag."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from curation.access import access_flag_for_clear, access_project, access_project_as_curator
from curation.pagination import page_from_request
from curation.selectors.reviews import ATTENTION_ORDERING, attention_flags
from curation.services.flags import item_flag_clear

ATTENTION_PAGE_SIZE = 50


@login_required
def attention_list(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_project_as_curator(user=request.user, slug=slug)
    flags = attention_flags(project=project)
    page = page_from_request(request, flags, ordering=ATTENTION_ORDERING, size=ATTENTION_PAGE_SIZE)
    template = "curation/flags/attention.html" + ("#flag-table" if request.htmx else "")
    return render(request, template, {"project": project, "page": page})


@login_required
@require_POST
def flag_clear(request: HttpRequest, slug: str, flag_id: int) -> HttpResponse:
    project = access_project(user=request.user, slug=slug)
    flag = access_flag_for_clear(user=request.user, flag_id=flag_id, project=project)
    try:
        item_flag_clear(flag=flag, curator=request.user, note=request.POST.get("note", ""))
    except ValidationError as exc:
        messages.error(request, f"Flag {flag.pk} is still open: {' '.join(exc.messages)}")
    else:
        messages.success(request, f"Flag {flag.pk} cleared.")
    return redirect("attention_list", slug=project.slug)
