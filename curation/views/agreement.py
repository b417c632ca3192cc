from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from curation.access import access_project_agreement
from curation.services.agreement import SLICES, project_agreement_get
from curation.stats.agreement import OUTLIER_MIN_UNITS

CHART_WIDTH = 720
CHART_LABEL_WIDTH = 230
CHART_ROW = 30
CHART_PAD = 24


@login_required
def project_agreement(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_project_agreement(user=request.user, slug=slug)
    report = project_agreement_get(project=project)
    schemas = [_present_schema(schema) for schema in report["schemas"]] if report else []
    computed_at = datetime.fromisoformat(report["computed_at"]) if report else None
    template = "curation/agreement/detail.html" + ("#agreement-body" if request.htmx else "")
    return render(
        request,
        template,
        {
            "project": project,
            "report": report,
            "schemas": schemas,
            "computed_at": computed_at,
            "outlier_min_units": OUTLIER_MIN_UNITS,
        },
    )


def _present_schema(schema: dict) -> dict:
    """Reshape one form's report into the page's tables: fields as rows, raters and slices pivoted."""
    fields = schema["fields"]
    raters: dict[str, dict] = {}
    for index, field in enumerate(fields):
        for row in field["raters"]:
            entry = raters.setdefault(row["rater"], {"name": row["rater"], "cells": [None] * len(fields), "outlier": 0})
            entry["cells"][index] = row
            entry["outlier"] += row["outlier"]
    slices = []
    for name, label in SLICES:
        rows = [
            {"slice": row["slice"], "n_units": row["n_units"], "cells": [row["fields"].get(f["key"]) for f in fields]}
            for row in schema["slices"][name]
        ]
        slices.append({"name": name, "label": label, "rows": rows})
    return {
        **schema,
        "raters_table": sorted(raters.values(), key=lambda r: (-r["outlier"], r["name"])),
        "slice_tables": slices,
        "chart": alpha_chart([(f["label"], f["report"]["alpha"]) for f in fields]),
    }


def alpha_chart(rows: list[tuple[str, dict]]) -> dict:
    """Geometry of a horizontal bar chart of estimates with CI whiskers, for an inline SVG."""
    lows = [e[k] for _, e in rows for k in ("value", "ci_low") if e[k] is not None]
    low = min([0.0, *lows])
    low = -1.0 if low < -0.6 else (-0.5 if low < -0.2 else (-0.2 if low < 0 else 0.0))
    plot_left, plot_right = CHART_LABEL_WIDTH, CHART_WIDTH - CHART_PAD

    def x(value: float) -> float:
        return round(plot_left + (value - low) / (1 - low) * (plot_right - plot_left), 1)

    bars = []
    for i, (label, estimate) in enumerate(rows):
        top = CHART_PAD + i * CHART_ROW
        value = estimate["value"]
        bar = {"label": label, "y": top, "mid": top + CHART_ROW / 2, "text_y": top + CHART_ROW / 2 + 4}
        if value is None:
            bar["undefined"] = estimate["undefined"]
        else:
            start, end = sorted((x(0.0), x(value)))
            bar.update(
                value=value,
                bar_x=start,
                bar_width=max(end - start, 1),
                bar_y=top + 6,
                bar_height=CHART_ROW - 12,
                negative=value < 0,
            )
            if estimate["ci_low"] is not None:
                bar.update(ci_x1=x(estimate["ci_low"]), ci_x2=x(estimate["ci_high"]))
        bars.append(bar)
    height = CHART_PAD * 2 + CHART_ROW * len(rows)
    ticks = []
    step = 0.2 if low >= -0.2 else 0.5
    tick = low
    while tick <= 1.0001:
        ticks.append({"x": x(tick), "label": f"{tick:.1f}"})
        tick = round(tick + step, 6)
    return {
        "width": CHART_WIDTH,
        "height": height,
        "bars": bars,
        "ticks": ticks,
        "zero_x": x(0.0),
        "plot_left": plot_left,
        "plot_right": plot_right,
        "axis_y": height - CHART_PAD + 4,
        "tick_label_y": height - CHART_PAD + 18,
    }
