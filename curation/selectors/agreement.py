"""Reads behind the agreement report: a project's current reviews with each item's slices, and the
report as its page shows it."""

from typing import Any

from django.db.models import Count, Max, Q, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf

from curation.charts import alpha_chart
from curation.models import Project, Review

SLICES = (("topic", "Topic"), ("view", "View"), ("task_type", "Task type"), ("difficulty", "Difficulty"))
# The page lists this many reviewers of each form unless all are asked for: a project of 300 reviewers
# would otherwise make every visit a long page.
RATERS_SHOWN = 25
# The shape of agreement_page's answer. The worker stores that answer with each report; a stored page of
# another version (or none: a report from before pages were stored) is shaped again from the report.
# Bump it whenever the shape, or what it keeps (RATERS_SHOWN), changes.
PAGE_VERSION = 1


def _first_of(*names: str):
    """The first non-empty of several text columns: the linked vocabulary term, else the raw label."""
    return Coalesce(*(NullIf(name, Value("")) for name in names))


AGREEMENT_REVIEW_COLUMNS = (
    "id",
    "schema_id",
    "reviewer_id",
    "seed_task_id",
    "response_id",
    "answers",
    "topic",
    "view",
    "task_type",
    "difficulty",
)


def agreement_reviews_of(*, project: Project) -> QuerySet:
    """The project's current reviews as tuples of AGREEMENT_REVIEW_COLUMNS, with each item's slices.

    A review of a model response takes its topic, view, type and difficulty from the seed task the
    response answers (or the test prompt's difficulty).
    """
    return (
        Review.objects.filter(project=project, is_current=True)
        .annotate(
            topic=_first_of(
                "seed_task__topic__name",
                "seed_task__topic_raw",
                "response__seed_task__topic__name",
                "response__seed_task__topic_raw",
            ),
            view=_first_of(
                "seed_task__view__name",
                "seed_task__view_raw",
                "response__seed_task__view__name",
                "response__seed_task__view_raw",
            ),
            task_type=_first_of(
                "seed_task__task_type__name",
                "seed_task__task_type_raw",
                "response__seed_task__task_type__name",
                "response__seed_task__task_type_raw",
            ),
            difficulty=Coalesce(
                "seed_task__difficulty", "response__seed_task__difficulty", "response__prompt__difficulty"
            ),
        )
        .order_by("id")
        .values_list(*AGREEMENT_REVIEW_COLUMNS)
    )


def review_state_of(*, project: Project) -> tuple[int, int]:
    """(latest review id, number of current reviews): changes whenever a review is submitted or removed.
    Counts every current review: for jobs, not requests (reviews_latest_id is what a request reads)."""
    state = Review.objects.filter(project=project).aggregate(
        latest=Max("id"), current=Count("id", filter=Q(is_current=True))
    )
    return state["latest"] or 0, state["current"]


def reviews_latest_id(*, project: Project) -> int:
    """The id of the project's latest review, from the (project, id) index: reviews are never edited
    (a change is a new review), so a result that saw this id saw every review there is."""
    return Review.objects.filter(project=project).order_by("-id").values_list("id", flat=True).first() or 0


def agreement_data_version(*, project: Project) -> str:
    """The version of the data an agreement report covers: it changes whenever a review is submitted."""
    return f"reviews:{reviews_latest_id(project=project)}"


def _lowest_agreement(rater: dict) -> float:
    values = [c["agreement_with_others"]["value"] for c in rater["cells"] if c]
    return min((v for v in values if v is not None), default=float("inf"))


def agreement_schema_page(schema: dict, *, all_raters: bool = False) -> dict:
    """One form's report as the page's tables: fields as rows, raters and slices pivoted, and the chart.

    Reviewers come outliers first, then those agreeing least with the others; the first RATERS_SHOWN
    unless all are asked for. The fields keep their coefficients, not their per-rater rows (the raters'
    table holds those shown)."""
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
        **{key: value for key, value in schema.items() if key not in ("fields", "slices")},
        "fields": [{key: value for key, value in field.items() if key != "raters"} for field in fields],
        "raters_table": ranked if all_raters else ranked[:RATERS_SHOWN],
        "n_raters": len(ranked),
        "slice_tables": slices,
        "chart": alpha_chart([(f["label"], f["report"]["alpha"]) for f in fields]),
    }


def agreement_page(report: dict[str, Any], *, all_raters: bool = False) -> dict[str, Any]:
    """What the agreement page shows of a report (JSON-ready): its size and bootstrap, and each form's
    tables (agreement_schema_page). The worker stores it with the report (all_raters=False), so a visit
    reads this rather than the report."""
    return {
        "version": PAGE_VERSION,
        "n_reviews": report["n_reviews"],
        "draws": report["draws"],
        "seed": report["seed"],
        "schemas": [agreement_schema_page(schema, all_raters=all_raters) for schema in report["schemas"]],
    }


def agreement_page_field(schemas: list[dict[str, Any]], ref: str) -> dict[str, Any] | None:
    """The field of the page's forms (agreement_page's `schemas`) that `ref`, "<form id>:<field key>",
    names; None when it names none (a form or field the last report no longer has, or no report).

    The page draws a field's Cohen's kappa pairs only when a curator opens them, asking for it by this."""
    schema_id, _, key = ref.partition(":")
    for schema in schemas:
        if str(schema["schema_id"]) == schema_id:
            return next((field for field in schema["fields"] if field["key"] == key), None)
    return None


def agreement_page_is_current(page: dict[str, Any] | None) -> bool:
    """Whether a stored page has the shape agreement_page gives now."""
    return page is not None and page.get("version") == PAGE_VERSION
