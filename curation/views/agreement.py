from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from curation.access import access_project_agreement
from curation.charts import alpha_chart
from curation.models import Project
from curation.services.agreement import SLICES, project_agreement_latest, project_agreement_recompute
from curation.stats.agreement import OUTLIER_MIN_UNITS

RATERS_SHOWN = 25


@login_required
def project_agreement(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_project_agreement(user=request.user, slug=slug)
    return _agreement_page(request, project)


def _agreement_page(request: HttpRequest, project: Project) -> HttpResponse:
    # The last result and its age; a worker computes a new one (never this request, whatever the size).
    latest = project_agreement_latest(project=project)
    report = latest.result
    all_raters = request.GET.get("raters") == "all"
    schemas = [_present_schema(schema, all_raters=all_raters) for schema in report["schemas"]] if report else []
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


def _lowest_agreement(rater: dict) -> float:
    values = [c["agreement_with_others"]["value"] for c in rater["cells"] if c]
    return min((v for v in values if v is not None), default=float("inf"))


def _present_schema(schema: dict, *, all_raters: bool = False) -> dict:
    """Reshape one form's report into the page's tables: fields as rows, raters and slices pivoted.

    Reviewers come outliers first, then those agreeing least with the others; the first RATERS_SHOWN
    unless all are asked for (a project of 300 reviewers would otherwise make every visit a long page)."""
    fields = schema["fields"]
    raters: dict[str, dict] = {}
    for index, field in enumerate(fields):
        for row in field["raters"]:
            entry = raters.setdefault(row["rater"], {"name": row["rater"], "cells": [None] * len(fields), "outlier": 0})
            entry["cells"][index] = row
            entry["outlier"] += row["outlier"]
    ranked = sorted(raters.values(), key=lambda r: (-r["outlier"], _lowest_agreement(r), r["name"]))
    slices = []
    for name, label in SLICES:
        rows = [
            {"slice": row["slice"], "n_units": row["n_units"], "cells": [row["fields"].get(f["key"]) for f in fields]}
            for row in schema["slices"][name]
        ]
        slices.append({"name": name, "label": label, "rows": rows})
    return {
        **schema,
        "raters_table": ranked if all_raters else ranked[:RATERS_SHOWN],
        "n_raters": len(ranked),
        "slice_tables": slices,
        "chart": alpha_chart([(f["label"], f["report"]["alpha"]) for f in fields]),
    }
