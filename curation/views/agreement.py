from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from curation.access import access_project_agreement
from curation.models import Project
from curation.services.agreement import project_agreement_page, project_agreement_recompute
from curation.stats.agreement import OUTLIER_MIN_UNITS


@login_required
def project_agreement(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_project_agreement(user=request.user, slug=slug)
    return _agreement_page(request, project)


def _agreement_page(request: HttpRequest, project: Project) -> HttpResponse:
    # The last result and its age; a worker computes a new one (never this request, whatever the size).
    all_raters = request.GET.get("raters") == "all"
    latest = project_agreement_page(project=project, all_raters=all_raters)
    report = latest.result
    schemas = report["schemas"] if report else []
    template = "curation/agreement/detail.html" + ("#agreement-body" if request.htmx else "")
    return render(
        request,
        template,
        {
            "project": project,
            "report": report,
            "schemas": schemas,
            "latest": latest,
            "all_raters": all_raters,
            "outlier_min_units": OUTLIER_MIN_UNITS,
        },
    )


@login_required
@require_POST
def project_agreement_refresh_view(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_project_agreement(user=request.user, slug=slug)
    project_agreement_recompute(project=project)
    if request.htmx:  # the Recompute button swaps in the page's body, which polls until the figures are ready
        return _agreement_page(request, project)
    messages.info(request, "Agreement is being recomputed; this page shows the new figures when they are ready.")
    return redirect("project_agreement", slug=project.slug)
