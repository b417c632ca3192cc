from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from curation.selectors.projects import projects_with_my_queue


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    projects = projects_with_my_queue(user=request.user)
    return render(
        request,
        "curation/projects/dashboard.html",
        {
            "projects": projects,
            "pending_total": sum(p.my_pending for p in projects),
            "done_total": sum(p.my_done for p in projects),
        },
    )
