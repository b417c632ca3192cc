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

import math
from array import array
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from accounts.models import User
from curation.models import Computation, ComputationKind, ComputationStatus, Project, RatingSchema
from curation.schemas.definitions import field_level, field_options, is_prompt_rubric
from curation.selectors.agreement import (
    AGREEMENT_REVIEW_COLUMNS,
    SLICES,
    agreement_data_version,
    agreement_page,
    agreement_page_is_current,
    agreement_reviews_of,
)
from curation.selectors.computations import LatestResult, computation_of, computation_result, latest_result
from curation.services.computations import ComputationOutcome, computation_refresh, computation_request
from curation.stats.agreement import DRAWS, SEED, AgreementBatch, RatingsTable, ratings_from_arrays
from curation.stats.lazy import lazy_module

NO_SLICE = "(not set)"
# Up to this many current reviews, a job that needs the figures now (a release's card) computes them
# itself when the worker has not yet; above it, it goes without. Requests never compute them.
INLINE_LIMIT = 3000
_SELECTED, _NOT_SELECTED = "selected", "not selected"
KIND = ComputationKind.AGREEMENT
# numpy loads with the first computation, not when the pages import this module (curation.stats.lazy).
np = lazy_module("numpy")
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


# Reviews are read from a server-side cursor this many at a time, and kept only as the few numbers
# each comparison needs (the answers themselves are not kept): memory grows with ratings, not rows.
READ_CHUNK = 20_000


def project_agreement_compute(*, project: Project, draws: int = DRAWS, seed: int = SEED) -> dict[str, Any]:
    """Every form's agreement, field by field, with per-rater and per-slice breakdowns (JSON-ready).

    Reads the reviews in one streamed query; the statistics run over all units at once
    (curation.stats.agreement), each from the ratings alone.
    """
    column = {name: i for i, name in enumerate(AGREEMENT_REVIEW_COLUMNS)}
    schemas = {s.pk: s for s in RatingSchema.objects.filter(project=project)}
    forms: dict[int, _FormRatings] = {}
    latest, n_reviews = 0, 0
    for row in agreement_reviews_of(project=project).iterator(chunk_size=READ_CHUNK):
        schema_id = row[column["schema_id"]]
        form = forms.get(schema_id)
        if form is None:
            if schema_id not in schemas:  # a form of another project: read as before, from its own fields
                schemas[schema_id] = RatingSchema.objects.get(pk=schema_id)
            form = forms[schema_id] = _FormRatings(schemas[schema_id], column)
        form.add(row)
        latest, n_reviews = max(latest, row[column["id"]]), n_reviews + 1
    names = _rater_names(set().union(*(form.reviewer_ids() for form in forms.values())))
    result_schemas = [
        _schema_agreement(forms.pop(schema_id), names, draws, seed)  # a form's columns go once it is done
        for schema_id in sorted(forms, key=lambda pk: (schemas[pk].name, -schemas[pk].version))
    ]
    return {
        "project": project.slug,
        "computed_at": timezone.now().isoformat(),
        "latest_review_id": latest,
        "n_reviews": n_reviews,
        "draws": draws,
        "seed": seed,
        "schemas": result_schemas,
    }


class _FormRatings:
    """One form's current reviews, kept as columns of numbers: each review's item and reviewer, the
    value it gives in each comparison (coded; NaN where it gives none) and its item's slices (coded)."""

    def __init__(self, schema: RatingSchema, column: dict[str, int]):
        self.schema, self.column = schema, column
        self.comparisons: list[tuple[dict, dict]] = []
        self.skipped: list[dict] = []
        for field in schema.fields:
            reason = _skipped(field)
            if reason:
                self.skipped.append(
                    {"key": field["key"], "label": field.get("label") or field["key"], "reason": reason}
                )
                continue
            self.comparisons += [(field, comparison) for comparison in _comparisons(field)]
        self.codes = [
            {label: float(i) for i, label in enumerate(c["order"])} if c["order"] is not None else None
            for _, c in self.comparisons
        ]
        self.units = array("q")  # a seed task t as 2t, a model response r as 2r + 1
        self.reviewers = array("q")
        # Codes of choices are small whole numbers, exact in single precision; numbers keep double.
        self.values = [array("d" if codes is None else "f") for codes in self.codes]
        self.invalid: dict[int, tuple[int, object]] = {}  # comparison -> (review's position, value)
        self.slice_labels: list[dict[str, int]] = [{} for _ in SLICES]
        self.slices = [array("q") for _ in SLICES]

    def add(self, row: tuple) -> None:
        column = self.column
        task, response = row[column["seed_task_id"]], row[column["response_id"]]
        self.units.append(2 * task if task else 2 * response + 1)
        self.reviewers.append(row[column["reviewer_id"]])
        answers = row[column["answers"]]
        for i, (_, comparison) in enumerate(self.comparisons):
            value, codes = comparison["read"](answers), self.codes[i]
            if value is None:
                coded = math.nan
            elif codes is None:
                coded = float(value)
            elif value in codes:
                coded = codes[value]
            else:
                self.invalid.setdefault(i, (len(self.units) - 1, value))
                coded = math.nan
            self.values[i].append(coded)
        for labels, codes, (name, _) in zip(self.slice_labels, self.slices, SLICES, strict=True):
            label = row[column[name]]
            label = str(label) if label not in (None, "") else NO_SLICE
            codes.append(labels.setdefault(label, len(labels)))

    def reviewer_ids(self) -> set[int]:
        return set(np.unique(np.frombuffer(self.reviewers, dtype=np.int64)).tolist())

    def table(self, i: int) -> RatingsTable:
        """The ratings of comparison i (refusing a value its options do not have, as `ratings_from_rows`)."""
        units, reviewers = np.frombuffer(self.units, dtype=np.int64), np.frombuffer(self.reviewers, dtype=np.int64)
        if i in self.invalid:
            at, value = self.invalid[i]
            unit = ("t", int(units[at]) // 2) if units[at] % 2 == 0 else ("r", int(units[at]) // 2)
            raise ValueError(
                f"value {value!r} of rater {int(reviewers[at])!r} on unit {unit!r} is not one of {list(self.codes[i])}"
            )
        _, comparison = self.comparisons[i]
        values = np.frombuffer(self.values[i], dtype=np.float64 if self.codes[i] is None else np.float32)
        return ratings_from_arrays(units, reviewers, values.astype(np.float64), categories=comparison["order"])

    def unit_slices(self) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[list[str]]]:
        """The items (unit ids, ascending), how many reviews each has, each item's slice in each of
        SLICES (coded), and the labels of the codes. An item's slices are those of its task, the same on
        each of its reviews."""
        units, first, reviews = np.unique(
            np.frombuffer(self.units, dtype=np.int64), return_index=True, return_counts=True
        )
        codes = [np.frombuffer(c, dtype=np.int64)[first] for c in self.slices]
        return units, reviews, codes, [list(labels) for labels in self.slice_labels]


def _schema_agreement(form: _FormRatings, names: dict[int, str], draws: int, seed: int) -> dict:
    """One rating form's report: every comparable field's coefficients, per rater and per slice of items.

    The fields with their per-rater breakdowns are computed together, then the slices one kind at a
    time: within each step the reports over the same items share their bootstrap draws
    (AgreementBatch), and a step holds only its own statistics.
    """
    slice_units, reviews_per_unit, slice_codes, slice_labels = form.unit_slices()
    tables = [form.table(i) for i in range(len(form.comparisons))]
    batch = AgreementBatch(draws=draws, seed=seed)
    pending = [
        _field_report(batch, field, comparison, table, names)
        for (field, comparison), table in zip(form.comparisons, tables, strict=True)
    ]
    batch.run()
    fields = [report() for report in pending]
    slice_tables: dict[str, dict[str, dict]] = {name: {} for name, _ in SLICES}
    for (name, _), codes, labels in zip(SLICES, slice_codes, slice_labels, strict=True):
        batch = AgreementBatch(draws=draws, seed=seed)
        by_slice = []
        for (_, comparison), table in zip(form.comparisons, tables, strict=True):
            unit_slices = codes[np.searchsorted(slice_units, table.units)]
            by_slice.append((comparison, batch.slice_breakdown(table, unit_slices, comparison["level"])))
        batch.run()
        for comparison, entries in by_slice:
            for entry in entries():
                label = labels[entry["slice"]]
                row = slice_tables[name].setdefault(label, {"slice": label, "fields": {}})
                row["fields"][comparison["key"]] = {"n_units": entry["n_units"], "alpha": entry["alpha"]}
    return {
        "schema_id": form.schema.pk,
        "schema": str(form.schema),
        "target": form.schema.target,
        "n_reviews": int(reviews_per_unit.sum()),
        "n_units": int(reviews_per_unit.size),
        "n_units_multi": int((reviews_per_unit >= 2).sum()),
        "fields": fields,
        "skipped": form.skipped,
        "slices": _sorted_slices(slice_tables),
    }


def _field_report(
    batch: AgreementBatch, field: dict, comparison: dict, table: RatingsTable, names: dict[int, str]
) -> Callable[[], dict]:
    """One field's report and per-rater breakdown, asked of the batch; the function gives them once it ran."""
    level = comparison["level"]
    rater_labels = [names.get(r, str(r)) for r in table.raters.tolist()]
    n_categories = len(comparison["order"]) if comparison["order"] is not None else None
    report = batch.agreement_report(table, level, raters=rater_labels, n_categories=n_categories, max_pairs=PAIRS_KEPT)
    raters = batch.rater_breakdown(table, level, raters=rater_labels)
    return lambda: {
        "key": comparison["key"],
        "label": comparison["label"],
        "kind": field["kind"],
        "level": level,
        "note": _note(field),
        "report": report(),
        "raters": raters(),
    }


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
    # The page's figures are shaped here, once per report, so a visit reads them alone (project_agreement_page).
    page = agreement_page(report)
    return ComputationOutcome(data_version=version, result=report, summary=_summary(report), page=page)


def project_agreement_refresh(*, project_id: int) -> dict[str, Any]:
    """Compute a project's agreement now, in this process, and publish it (CLI, benchmark, tests)."""
    computation = computation_refresh(project=Project.objects.get(pk=project_id), kind=KIND)
    return computation.result


def project_agreement_latest(*, project: Project) -> LatestResult:
    """What the page and the API show, computed by nobody in the request: the last report (None if
    never computed), its age and whether reviews arrived since. A project never computed gets a run
    queued; a stale report waits for a curator's Recompute, so a busy project is not recomputed on
    every visit."""
    return _latest(project=project, shown="result")


def _latest(
    *, project: Project, shown: str, without: tuple[str, ...] = (), result_as_text: bool = False
) -> LatestResult:
    """project_agreement_latest showing the computation's `shown`, read as computation_of's `without`
    and `result_as_text` say."""
    read = {"project": project, "kind": KIND, "without": without, "result_as_text": result_as_text}
    computation = computation_of(**read)
    if computation is None or (computation.computed_at is None and computation.status == ComputationStatus.IDLE):
        computation_request(project=project, kind=KIND)
        computation = computation_of(**read)  # a worker that runs jobs at once (eager) has published it already
    return latest_result(computation, data_version=agreement_data_version(project=project), shown=shown)


def project_agreement_page(*, project: Project, all_raters: bool = False) -> LatestResult:
    """project_agreement_latest for the page: its `result` is what the page shows (agreement_page).

    The worker stores that with the report, so a visit reads it alone, never the report (1.7 MB for 300
    reviewers). The report is read, and shaped here, only when every reviewer is asked for, or when the
    stored page is missing or of an older shape (a report published before its page was stored)."""
    if all_raters:
        latest = _latest(project=project, shown="result", without=("page",))
    else:
        latest = _latest(project=project, shown="page", without=("result",))
        if not latest.ready or agreement_page_is_current(latest.result):
            return latest
        latest.result = computation_result(latest.computation)
    if latest.result is not None:
        latest.result = agreement_page(latest.result, all_raters=all_raters)
    return latest


def project_agreement_latest_json(*, project: Project) -> LatestResult:
    """project_agreement_latest with the report as the JSON text stored, not decoded: for the API, which
    answers it as it is rather than decoding and encoding 1.6 MB per request."""
    return _latest(project=project, shown="result_text", without=("result", "page"), result_as_text=True)


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
