"""Curators' side of the review workspace: the attention list of unsafe and PHI flags, and assigning work."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from curation.access import access_flag_for_clear, access_project, require_curator
from curation.review_forms import AssignForm
from curation.selectors_review import attention_flags, reviewers_with_load
from curation.services.assignment import assignments_create
from curation.services.feedback import item_flag_clear

ATTENTION_PAGE_SIZE = 50


@login_required
def attention_list(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_project(user=request.user, slug=slug)
    require_curator(user=request.user)
    page = Paginator(attention_flags(project=project), ATTENTION_PAGE_SIZE).get_page(request.GET.get("page"))
    template = "curation/attention.html" + ("#flag-table" if request.htmx else "")
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


@login_required
def assign(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_project(user=request.user, slug=slug)
    require_curator(user=request.user)
    status = 200
    if request.method == "POST":
        form = AssignForm(request.POST, project=project)
        if form.is_valid():
            data = form.cleaned_data
            ids = form.item_ids()
            try:
                result = assignments_create(
                    project=project,
                    assigned_by=request.user,
                    reviewers=list(data["reviewers"]),
                    k=data["k"],
                    seed_task_ids=ids if data["kind"] == "seed_task" else (),
                    response_ids=ids if data["kind"] == "response" else (),
                )
            except ValidationError as exc:
                for field, problems in exc.message_dict.items():
                    form.add_error(field if field in form.fields else "selection", problems)
                status = 400
            else:
                summary = (
                    f"{result.created} assignment{'s' if result.created != 1 else ''} made on {result.items} items."
                )
                if result.short:
                    shown = ", ".join(result.short[:20]) + (" ..." if len(result.short) > 20 else "")
                    messages.warning(
                        request,
                        f"{summary} {len(result.short)} items could not reach k (too few eligible reviewers): {shown}",
                    )
                else:
                    messages.success(request, summary)
                return redirect("assign", slug=project.slug)
        else:
            status = 400
    else:
        form = AssignForm(project=project, initial={"k": project.reviewers_per_item, "limit": 100})
    return render(
        request,
        "curation/assign.html",
        {"project": project, "form": form, "reviewers": reviewers_with_load(project=project)},
        status=status,
    )
