"""Inter-annotator agreement of a project's current reviews, per rating form and field.

A unit is one reviewed item (seed task or model response) under one form; a rater is a reviewer.
How a field is compared follows its kind and measurement level (curation.schemas.definitions):

- single and pairwise choices are coded by their position in the options, so an ordinal choice
  keeps its order; scales and numbers are compared as numbers;
- multiple choices and rubrics become one yes/no field per option or criterion (a submitted review
  without the option did not select it);
- free text is not compared.

Reports are cached until the project's reviews change; large projects compute them in Celery.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from accounts.models import User
from curation.models import Project, RatingSchema
from curation.schemas.definitions import field_level, field_options, is_prompt_rubric
from curation.selectors.agreement import AGREEMENT_REVIEW_COLUMNS, agreement_reviews_of, review_state_of
from curation.stats.agreement import DRAWS, SEED, agreement_report, rater_breakdown, ratings_from_rows, slice_breakdown

SLICES = (("topic", "Topic"), ("view", "View"), ("task_type", "Task type"), ("difficulty", "Difficulty"))
NO_SLICE = "(not set)"
# Above this many current reviews the page does not compute inline but asks a worker.
INLINE_LIMIT = 3000
CACHE_SECONDS = 7 * 24 * 3600
_SELECTED, _NOT_SELECTED = "selected", "not selected"


def _cache_key(project_id: int, state: tuple[int, int]) -> str:
    return f"agreement:v1:{project_id}:{state[0]}:{state[1]}"


def _pending_key(project_id: int, state: tuple[int, int]) -> str:
    return f"agreement-pending:v1:{project_id}:{state[0]}:{state[1]}"


def _latest_key(project_id: int) -> str:
    """The last report computed for the project, whatever reviews came since: the page shows it with its age."""
    return f"agreement-latest:v1:{project_id}"


def _store(project_id: int, state: tuple[int, int], report: dict[str, Any]) -> None:
    cache.set(_cache_key(project_id, state), report, CACHE_SECONDS)
    cache.set(_latest_key(project_id), report, CACHE_SECONDS)


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
    state = review_state_of(project=project)
    column = {name: i for i, name in enumerate(AGREEMENT_REVIEW_COLUMNS)}
    by_schema: dict[int, list[tuple]] = defaultdict(list)
    for row in agreement_reviews_of(project=project):
        by_schema[row[column["schema_id"]]].append(row)
    schemas = {s.pk: s for s in RatingSchema.objects.filter(pk__in=by_schema.keys())}
    names = _rater_names({row[column["reviewer_id"]] for rows in by_schema.values() for row in rows})
    result_schemas = []
    for schema_id in sorted(by_schema, key=lambda pk: (schemas[pk].name, -schemas[pk].version)):
        schema, rows = schemas[schema_id], by_schema[schema_id]
        result_schemas.append(_schema_agreement(schema, rows, column, names, draws, seed))
    return {
        "project": project.slug,
        "computed_at": timezone.now().isoformat(),
        "latest_review_id": state[0],
        "n_reviews": state[1],
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
            table.matrix, level, raters=rater_labels, n_categories=n_categories, draws=draws, seed=seed
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


def _cache_is_shared() -> bool:
    """A worker's result reaches the web processes only through a cache they share (Redis), not a local one."""
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        return True
    backend = settings.CACHES["default"]["BACKEND"]
    return not backend.endswith(("LocMemCache", "DummyCache"))


def project_agreement_refresh(*, project_id: int) -> dict[str, Any]:
    """Compute a project's agreement and cache it under the review state it was computed from."""
    project = Project.objects.get(pk=project_id)
    state = review_state_of(project=project)
    report = project_agreement_compute(project=project)
    # The state read before computing names the data computed: a review arriving meanwhile makes a new key.
    _store(project.pk, state, report)
    cache.delete(_pending_key(project.pk, state))
    return report


def project_agreement_get(*, project: Project, inline_limit: int | None = None) -> dict[str, Any] | None:
    """The cached report for the project's current reviews; computed now when small (up to
    `inline_limit` reviews, INLINE_LIMIT by default), else queued.

    Returns None while a worker computes it (the page says so and refreshes).
    """
    if inline_limit is None:
        inline_limit = INLINE_LIMIT
    state = review_state_of(project=project)
    report = cache.get(_cache_key(project.pk, state))
    if report is not None:
        return report
    if state[1] <= inline_limit or not _cache_is_shared():
        report = project_agreement_compute(project=project)
        _store(project.pk, state, report)
        return report
    _enqueue(project=project, state=state)
    return cache.get(_cache_key(project.pk, state))


def _enqueue(*, project: Project, state: tuple[int, int]) -> None:
    from curation.jobs import project_agreement_task  # jobs import this module: a real cycle

    # add() is atomic: only the first request for this state enqueues a computation.
    if cache.add(_pending_key(project.pk, state), True, 15 * 60):
        project_agreement_task.delay(project.pk)


def project_agreement_latest(*, project: Project) -> tuple[dict[str, Any] | None, bool]:
    """What the agreement page shows without computing anything in the request: the report for the
    current reviews if there is one, else the last one computed (None if never), and whether it is
    current. A project with no current report gets one queued.

    Without a cache shared with the workers (a development setting) a worker's result could never
    reach the page, so there the report is computed here, as project_agreement_get does.
    """
    if not _cache_is_shared():
        return project_agreement_get(project=project), True
    state = review_state_of(project=project)
    report = cache.get(_cache_key(project.pk, state))
    if report is not None:
        return report, True
    _enqueue(project=project, state=state)
    return cache.get(_cache_key(project.pk, state)) or cache.get(_latest_key(project.pk)), False


def project_agreement_last_summaries(*, project_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per project, the last report computed, in brief: when (`computed_at`, a datetime), over how many
    reviews, and its lowest defined Krippendorff's alpha with that field's label (`lowest`, None when no
    field has one). Projects never computed are missing. One cache read; nothing is computed or queued."""
    found = cache.get_many([_latest_key(pk) for pk in project_ids])
    summaries = {}
    for pk in project_ids:
        report = found.get(_latest_key(pk))
        if report is None:
            continue
        alphas = [
            (field["report"]["alpha"]["value"], f"{field['label']} ({schema['schema']})")
            for schema in report["schemas"]
            for field in schema["fields"]
            if field["report"]["alpha"]["value"] is not None
        ]
        lowest = min(alphas, default=None, key=lambda a: a[0])
        summaries[pk] = {
            "computed_at": datetime.fromisoformat(report["computed_at"]),
            "n_reviews": report["n_reviews"],
            "lowest": {"alpha": lowest[0], "field": lowest[1]} if lowest else None,
        }
    return summaries


def project_agreement_recompute(*, project: Project) -> None:
    """Queue a fresh computation of the project's agreement (the page's Recompute), even if one is cached."""
    state = review_state_of(project=project)
    cache.delete(_pending_key(project.pk, state))
    cache.delete(_cache_key(project.pk, state))
    _enqueue(project=project, state=state)
