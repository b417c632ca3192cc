from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from curation.access import access_project_agreement
from curation.models import Project
from curation.selectors.agreement import agreement_page_field
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
    # A field's Cohen's kappa pairs are drawn only when asked for (?kappa=<form id>:<field key>): by htmx
    # as the curator opens them (this fragment alone), or as a link without JavaScript (the page, with
    # them open). Drawn for every field, they were a third of the page (120 of 320 KB with 300 reviewers)
    # and a quarter of its time.
    kappa = request.GET.get("kappa")
    kappa_field = agreement_page_field(schemas, kappa) if kappa else None
    template = "curation/agreement/detail.html"
    if request.htmx:
        template += "#kappa-pairs" if kappa else "#agreement-body"
    return render(
        request,
        template,
        {
            "project": project,
            "report": report,
            "schemas": schemas,
            "latest": latest,
            "all_raters": all_raters,
            "kappa_field": kappa_field,
            "field": kappa_field,  # the fragment's
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
