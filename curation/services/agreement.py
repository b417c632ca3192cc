"""Inter-annotator agreement of a project's current reviews, per rating form and field.

A unit is one reviewed item (seed task or model response) under one form; a rater is a reviewer.
How a field is compared follows its kind and measurement level (curation.schemas.definitions):

- single and pairwise choices are coded by their position in the options, so an ordinal choice
  keeps its order; scales and numbers are compared as numbers;
- multiple choices and rubrics become one yes/no field per option or criterion (a submitted review
  without the option did not select it);
- free text is not compared.

A worker computes the report (curation.services.computations) and the pages and the API show the
last one with its age; it is stale once a review newer than those it covered arrives.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.utils import timezone

from accounts.models import User
from curation.models import Computation, ComputationKind, ComputationStatus, Project, RatingSchema
from curation.schemas.definitions import field_level, field_options, is_prompt_rubric
from curation.selectors.agreement import AGREEMENT_REVIEW_COLUMNS, agreement_data_version, agreement_reviews_of
from curation.selectors.computations import LatestResult, computation_of, latest_result
from curation.services.computations import ComputationOutcome, computation_refresh, computation_request
from curation.stats.agreement import DRAWS, SEED, agreement_report, rater_breakdown, ratings_from_rows, slice_breakdown

SLICES = (("topic", "Topic"), ("view", "View"), ("task_type", "Task type"), ("difficulty", "Difficulty"))
NO_SLICE = "(not set)"
# Up to this many current reviews, a job that needs the figures now (a release's card) computes them
# itself when the worker has not yet; above it, it goes without. Requests never compute them.
INLINE_LIMIT = 3000
_SELECTED, _NOT_SELECTED = "selected", "not selected"
KIND = ComputationKind.AGREEMENT
# Cohen's kappa for this many pairs of reviewers per field, those sharing the most items: 300 reviewers
# make 44,850 pairs, each with its bootstrap, which would be most of the report and of the job's time.
PAIRS_KEPT = 20


def _comparisons(field: dict) -> list[dict]:
    """The agreement questions one form field asks: (key, label, level, how to read a value)."""
    kind, key, label = field["kind"], field["key"], field.get("label") or field["key"]
    if kind == "free_text":
        return []
    if kind in ("single_choice", "pairwise_choice"):
        order = [o["value"] for o in field_options(field)]
        return [{"key": key, "label": label, "level": field_level(field), "order": order, "read": lambda a: a.get(key)}]
    if kind in ("ordinal_scale", "number"):
        return [{"key": key, "label": label, "level": field_level(field), "order": None, "read": lambda a: a.get(key)}]
    if kind in ("multiple_choice", "rubric"):
        options = (
            [(o["value"], o.get("label") or o["value"]) for o in field_options(field)]
            if kind == "multiple_choice"
            else [(c["key"], c.get("label") or c["key"]) for c in field["criteria"]]
        )
        return [
            {
                "key": f"{key}.{value}",
                "label": f"{label}: {option_label}",
                "level": "nominal",
                "order": [_NOT_SELECTED, _SELECTED],
                "read": lambda a, value=value: _SELECTED if value in (a.get(key) or []) else _NOT_SELECTED,
            }
            for value, option_label in options
        ]
    return []


def _skipped(field: dict) -> str | None:
    if field["kind"] == "free_text":
        return "free text is not compared"
    if is_prompt_rubric(field):
        # Each item has its own criteria, so there is no field-wide question; the grades are compared
        # criterion by criterion with every other grade of the rubric (curation.selectors.rubrics).
        return "graded on each prompt's own rubric: agreement per criterion is on the rubric results page"
    return None


def _note(field: dict) -> str:
    if field["kind"] == "multiple_choice":
        return "one yes/no comparison per option"
    if field["kind"] == "rubric":
        return "one yes/no comparison per criterion"
    return ""


def _rater_names(ids: set[int]) -> dict[int, str]:
    return {pk: name or email for pk, name, email in User.objects.filter(pk__in=ids).values_list("pk", "name", "email")}


def project_agreement_compute(*, project: Project, draws: int = DRAWS, seed: int = SEED) -> dict[str, Any]:
    """Every form's agreement, field by field, with per-rater and per-slice breakdowns (JSON-ready).

    Reads the reviews in one query; the statistics run over all units at once (curation.stats.agreement).
    """
    column = {name: i for i, name in enumerate(AGREEMENT_REVIEW_COLUMNS)}
    by_schema: dict[int, list[tuple]] = defaultdict(list)
    latest, n_reviews = 0, 0
    for row in agreement_reviews_of(project=project):
        by_schema[row[column["schema_id"]]].append(row)
        latest, n_reviews = max(latest, row[column["id"]]), n_reviews + 1
    schemas = {s.pk: s for s in RatingSchema.objects.filter(pk__in=by_schema.keys())}
    names = _rater_names({row[column["reviewer_id"]] for rows in by_schema.values() for row in rows})
    result_schemas = []
    for schema_id in sorted(by_schema, key=lambda pk: (schemas[pk].name, -schemas[pk].version)):
        schema, rows = schemas[schema_id], by_schema[schema_id]
        result_schemas.append(_schema_agreement(schema, rows, column, names, draws, seed))
    return {
        "project": project.slug,
        "computed_at": timezone.now().isoformat(),
        "latest_review_id": latest,
        "n_reviews": n_reviews,
        "draws": draws,
        "seed": seed,
        "schemas": result_schemas,
    }


def _schema_agreement(
    schema: RatingSchema, rows: list[tuple], column: dict, names: dict[int, str], draws: int, seed: int
) -> dict:
    """One rating form's report: every comparable field's coefficients, per rater and per slice of items."""

    def unit_of(row):
        return ("t", row[column["seed_task_id"]]) if row[column["seed_task_id"]] else ("r", row[column["response_id"]])

    unit_slices = _unit_slices(rows, column, unit_of)
    raters_per_unit: dict[tuple, int] = defaultdict(int)
    for row in rows:
        raters_per_unit[unit_of(row)] += 1
    fields, skipped = [], []
    slice_tables: dict[str, dict[str, dict]] = {name: {} for name, _ in SLICES}
    for field in schema.fields:
        reason = _skipped(field)
        if reason:
            skipped.append({"key": field["key"], "label": field.get("label") or field["key"], "reason": reason})
            continue
        for comparison in _comparisons(field):
            table = ratings_from_rows(
                (
                    (unit_of(row), row[column["reviewer_id"]], comparison["read"](row[column["answers"]]))
                    for row in rows
                ),
                order=comparison["order"],
            )
            fields.append(_field_report(field, comparison, table, names, draws, seed))
            _add_slices(slice_tables, comparison["key"], table, unit_slices, comparison["level"], draws, seed)
    return {
        "schema_id": schema.pk,
        "schema": str(schema),
        "target": schema.target,
        "n_reviews": len(rows),
        "n_units": len(raters_per_unit),
        "n_units_multi": sum(1 for n in raters_per_unit.values() if n >= 2),
        "fields": fields,
        "skipped": skipped,
        "slices": _sorted_slices(slice_tables),
    }


def _unit_slices(rows: list[tuple], column: dict, unit_of) -> dict[tuple, dict[str, str]]:
    """Each reviewed item's topic, view, type and difficulty (NO_SLICE where it has none)."""
    unit_slices: dict[tuple, dict[str, str]] = {}
    for row in rows:
        unit_slices.setdefault(
            unit_of(row),
            {name: str(row[column[name]]) if row[column[name]] not in (None, "") else NO_SLICE for name, _ in SLICES},
        )
    return unit_slices


def _field_report(field: dict, comparison: dict, table, names: dict[int, str], draws: int, seed: int) -> dict:
    level = comparison["level"]
    rater_labels = [names.get(r, str(r)) for r in table.raters]
    n_categories = len(comparison["order"]) if comparison["order"] is not None else None
    return {
        "key": comparison["key"],
        "label": comparison["label"],
        "kind": field["kind"],
        "level": level,
        "note": _note(field),
        "report": agreement_report(
            table.matrix,
            level,
            raters=rater_labels,
            n_categories=n_categories,
            draws=draws,
            seed=seed,
            max_pairs=PAIRS_KEPT,
        ),
        "raters": rater_breakdown(table.matrix, level, raters=rater_labels, draws=draws, seed=seed),
    }


def _add_slices(slice_tables: dict, key: str, table, unit_slices: dict, level: str, draws: int, seed: int) -> None:
    """Alpha of one field within each slice, added to the slice tables under the field's key."""
    for name, _ in SLICES:
        labels = [unit_slices[unit][name] for unit in table.units]
        for entry in slice_breakdown(table.matrix, labels, level, draws=draws, seed=seed):
            row = slice_tables[name].setdefault(entry["slice"], {"slice": entry["slice"], "fields": {}})
            row["fields"][key] = {"n_units": entry["n_units"], "alpha": entry["alpha"]}


def _sorted_slices(slice_tables: dict[str, dict[str, dict]]) -> dict[str, list[dict]]:
    """Each slice table's rows, largest slice first, each with the most items any field has in it."""
    slices = {}
    for name, _ in SLICES:
        table_rows = list(slice_tables[name].values())
        for row in table_rows:
            row["n_units"] = max((f["n_units"] for f in row["fields"].values()), default=0)
        table_rows.sort(key=lambda r: (-r["n_units"], r["slice"]))
        slices[name] = table_rows
    return slices


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's line: over how many reviews, and the lowest defined alpha with its field."""
    alphas = [
        (field["report"]["alpha"]["value"], f"{field['label']} ({schema['schema']})")
        for schema in report["schemas"]
        for field in schema["fields"]
        if field["report"]["alpha"]["value"] is not None
    ]
    lowest = min(alphas, default=None, key=lambda a: a[0])
    return {"n_reviews": report["n_reviews"], "lowest": {"alpha": lowest[0], "field": lowest[1]} if lowest else None}


def project_agreement_run(*, computation: Computation, run: int) -> ComputationOutcome:
    """The worker's computation of a project's agreement (curation.services.computations)."""
    project = Project.objects.get(pk=computation.project_id)
    version = agreement_data_version(project=project)
    report = project_agreement_compute(project=project)
    return ComputationOutcome(data_version=version, result=report, summary=_summary(report))


def project_agreement_refresh(*, project_id: int) -> dict[str, Any]:
    """Compute a project's agreement now, in this process, and publish it (CLI, benchmark, tests)."""
    computation = computation_refresh(project=Project.objects.get(pk=project_id), kind=KIND)
    return computation.result


def project_agreement_latest(*, project: Project) -> LatestResult:
    """What the page and the API show, computed by nobody in the request: the last report (None if
    never computed), its age and whether reviews arrived since. A project never computed gets a run
    queued; a stale report waits for a curator's Recompute, so a busy project is not recomputed on
    every visit."""
    computation = computation_of(project=project, kind=KIND)
    if computation is None or (computation.computed_at is None and computation.status == ComputationStatus.IDLE):
        computation = computation_request(project=project, kind=KIND)
        computation.refresh_from_db()  # a worker that runs jobs at once (eager) has published it already
    return latest_result(computation, data_version=agreement_data_version(project=project))


def project_agreement_recompute(*, project: Project) -> Computation:
    """Queue a fresh computation of the project's agreement (the page's Recompute); one already on
    its way is not queued twice."""
    return computation_request(project=project, kind=KIND)


def project_agreement_get(*, project: Project, inline_limit: int | None = None) -> dict[str, Any] | None:
    """For jobs that need the figures now (a release's card): the report for the current reviews;
    computed here when none is current and the project has at most `inline_limit` current reviews
    (INLINE_LIMIT by default), else None with a run queued. Never called by a request."""
    if inline_limit is None:
        inline_limit = INLINE_LIMIT
    latest = latest_result(
        computation_of(project=project, kind=KIND), data_version=agreement_data_version(project=project)
    )
    if latest.current:
        return latest.result
    if agreement_reviews_of(project=project)[: inline_limit + 1].count() <= inline_limit:
        return project_agreement_refresh(project_id=project.pk)
    project_agreement_recompute(project=project)
    return None


def project_agreement_last_summaries(*, project_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per project, the last report computed, in brief: when (`computed_at`, a datetime), over how many
    reviews, and its lowest defined Krippendorff's alpha with that field's label (`lowest`, None when no
    field has one). Projects never computed are missing. One query; nothing is computed or queued."""
    rows = Computation.objects.filter(project_id__in=project_ids, kind=KIND, computed_at__isnull=False).values_list(
        "project_id", "computed_at", "summary"
    )
    return {pk: {"computed_at": computed_at, **summary} for pk, computed_at, summary in rows}
