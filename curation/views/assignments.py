"""Curators' side of the review workspace: the attention list of unsafe and PHI flags, and assigning work."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from curation.access import access_project_as_curator
from curation.forms.assignments import AssignForm
from curation.selectors.reviews import reviewers_with_load
from curation.services.assignments import assignments_create


@login_required
def assign(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_project_as_curator(user=request.user, slug=slug)
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
    context = {
        "project": project,
        "form": form,
        "reviewers": reviewers_with_load(project=project),
        "chosen": form.chosen_reviewer_ids(),
    }
    return render(request, "curation/assignments/assign.html", context, status=status)
