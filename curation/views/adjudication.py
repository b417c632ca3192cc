"""Curators' pages: the disagreement queue, adjudicating one item, and accepting items into the dataset."""

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from audit.services import AuditAction, audit_record
from curation.access import access_item_for_adjudication, access_project_for_adjudication
from curation.filters import SeedTaskFilter
from curation.forms.adjudication import (
    AdjudicationSettingsForm,
    BulkDecisionForm,
    DecisionForm,
    GoldMetaForm,
    gold_inputs,
    gold_values_from_post,
)
from curation.models import AcceptanceAction, AcceptanceEvent, GoldLabel, ModelResponse, Project, RatingSchema, SeedTask
from curation.pagination import KeysetPage, page_from_request
from curation.selectors.adjudication import (
    Disagreement,
    adjudication_settings_of,
    disagreement_for_item,
    schema_for_item,
)
from curation.selectors.adjudication_item import field_rows, review_columns, soft_label_rows, text_edits
from curation.selectors.dataset_decisions import DecisionPreview, seed_tasks_decision_preview, seed_tasks_matching
from curation.selectors.disagreements import disagreement_after, disputed_items_of
from curation.selectors.seed_tasks import seed_tasks_of
from curation.services.adjudication import AdjudicationConflict, adjudication_settings_update, gold_label_adjudicate
from curation.services.dataset_decisions import seed_task_decide, seed_tasks_decide_by_filter
from curation.services.disagreements import disagreements_latest, disagreements_recompute
from curation.stats.disagreement import majority_answers

QUEUE_PAGE_SIZE = 50
FILTER_KEYS = ("q", "status", "topic", "view", "task_type", "difficulty")


def _error_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(f"{k}: {' '.join(m for e in v for m in e.messages)}" for k, v in exc.error_dict.items())
    return " ".join(exc.messages)


@login_required
def adjudication_queue(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_project_for_adjudication(user=request.user, slug=slug)
    return _queue_page(request, project)


def _queue_page(request: HttpRequest, project: Project) -> HttpResponse:
    """The queue a worker last found, a page at a time, with its age; never searched in the request."""
    include_settled = request.GET.get("settled") == "1"
    rules = adjudication_settings_of(project=project)
    latest = disagreements_latest(project=project, rules=rules)
    if latest.ready:
        rows = disputed_items_of(
            project=project, generation=latest.computation.generation, include_settled=include_settled
        )
        page = page_from_request(request, rows, ordering=("position",), size=QUEUE_PAGE_SIZE)
    else:
        page = KeysetPage(items=[])
    template = "curation/adjudication/queue.html" + ("#queue" if request.htmx else "")
    return render(
        request,
        template,
        {
            "project": project,
            "page": page,
            "rules": rules,
            "include_settled": include_settled,
            "latest": latest,
            "counts": latest.result or {},
            # Polled while a run is on its way; after a Recompute (a POST) the queue's own address.
            "poll_url": request.get_full_path()
            if request.method == "GET"
            else reverse("adjudication_queue", args=[project.slug]),
        },
    )


@login_required
@require_POST
def adjudication_queue_recompute(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_project_for_adjudication(user=request.user, slug=slug)
    disagreements_recompute(project=project, actor=request.user)
    if request.htmx:  # the Recompute button swaps in the queue, which polls until the new one is ready
        return _queue_page(request, project)
    messages.info(request, "The queue is being recomputed; this page shows it when it is ready.")
    return redirect("adjudication_queue", slug=project.slug)


@login_required
@require_http_methods(["GET", "POST"])
def adjudicate_task(request: HttpRequest, slug: str, task_id: int) -> HttpResponse:
    project = access_project_for_adjudication(user=request.user, slug=slug)
    task = access_item_for_adjudication(user=request.user, project=project, task_id=task_id)
    return _adjudicate(request, project, seed_task=task)


@login_required
@require_http_methods(["GET", "POST"])
def adjudicate_response(request: HttpRequest, slug: str, response_id: int) -> HttpResponse:
    project = access_project_for_adjudication(user=request.user, slug=slug)
    response = access_item_for_adjudication(user=request.user, project=project, response_id=response_id)
    return _adjudicate(request, project, response=response)


def _item_url(project: Project, seed_task: SeedTask | None, response: ModelResponse | None) -> str:
    if seed_task is not None:
        return reverse("adjudicate_task", kwargs={"slug": project.slug, "task_id": seed_task.pk})
    return reverse("adjudicate_response", kwargs={"slug": project.slug, "response_id": response.pk})


@dataclass
class _GoldForm:
    """The gold form as the page shows it: values, the reason/note form, errors, and the answer's status."""

    values: dict[str, Any]
    meta: GoldMetaForm
    gold: GoldLabel | None
    field_errors: dict[str, str] = field(default_factory=dict)
    conflict: GoldLabel | None = None
    status: int = 200


def _adjudicate(
    request: HttpRequest, project: Project, seed_task: SeedTask | None = None, response: ModelResponse | None = None
) -> HttpResponse:
    schema_id = request.POST.get("schema") if request.method == "POST" else request.GET.get("schema")
    schema = schema_for_item(project=project, seed_task=seed_task, response=response, schema_id=schema_id)
    if schema is None:
        messages.error(request, "This project has no rating form for this kind of item.")
        return redirect("adjudication_queue", slug=project.slug)
    reveal = request.GET.get("reveal") == "1"
    disagreement = disagreement_for_item(project=project, schema=schema, seed_task=seed_task, response=response)
    if reveal:
        audit_record(action=AuditAction.REVIEWERS_REVEALED, target=seed_task or response, project_id=project.pk)
    if request.method == "POST":
        form = _gold_submit(request, project, disagreement)
        if isinstance(form, HttpResponse):
            return form
    else:
        form = _gold_form_of(disagreement)
    context = _item_context(project, disagreement, reveal=reveal, gold=form.gold) | {
        "conflict": form.conflict,
        "inputs": gold_inputs(schema=schema, values=form.values, errors=form.field_errors),
        "meta": form.meta,
    }
    template = "curation/adjudication/item.html" + ("#reviews" if request.htmx and request.method == "GET" else "")
    return render(request, template, context, status=form.status)


def _gold_form_of(disagreement: Disagreement) -> _GoldForm:
    """The form prefilled with the current gold label, or else with the reviewers' majority; an item
    under a safety flag starts empty, so a benign majority is never one click from becoming gold."""
    gold = disagreement.gold
    if gold is not None:
        values = gold.values
    elif disagreement.safety:
        values = {}
    else:
        values = majority_answers(fields=disagreement.schema.fields, answers=[r.answers for r in disagreement.reviews])
    meta = GoldMetaForm(
        initial={
            "reason": gold.reason if gold else "",
            "note": gold.note if gold else "",
            "final_text": gold.final_text if gold else "",
            "version": gold.version if gold else 0,
        }
    )
    return _GoldForm(values=values, meta=meta, gold=gold)


def _gold_submit(request: HttpRequest, project: Project, disagreement: Disagreement) -> HttpResponse | _GoldForm:
    """Save the posted gold label and redirect, or the form again with why it was refused."""
    schema, seed_task, response = disagreement.schema, disagreement.seed_task, disagreement.response
    meta = GoldMetaForm(request.POST)
    values, field_errors = gold_values_from_post(schema=schema, data=request.POST)
    form = _GoldForm(values=values, meta=meta, gold=disagreement.gold, field_errors=field_errors, status=400)
    if not meta.is_valid() or field_errors:
        return form
    try:
        gold = gold_label_adjudicate(
            project=project,
            schema=schema,
            seed_task=seed_task,
            response=response,
            adjudicator=request.user,
            values=values,
            final_text=meta.cleaned_data["final_text"],
            reason=meta.cleaned_data["reason"],
            note=meta.cleaned_data["note"],
            expected_version=meta.cleaned_data["version"],
        )
    except AdjudicationConflict as exc:
        version = exc.current.version if exc.current else 0
        form.meta = GoldMetaForm(initial={**meta.cleaned_data, "version": version})
        form.gold = form.conflict = exc.current
        form.status = 409
        return form
    except ValidationError as exc:
        _show_refusal(exc, meta=meta, schema=schema, field_errors=field_errors)
        return form
    return _after_saving(request, project, disagreement, gold)


def _after_saving(request: HttpRequest, project: Project, saved: Disagreement, gold: GoldLabel) -> HttpResponse:
    """On to the next item to settle, saying which one was saved; the queue when none is left."""
    following = disagreement_after(project=project, current=saved)
    done = f"Gold label v{gold.version} saved for {saved.item_name}. The reviews it settled are unchanged."
    if following is None:
        messages.success(request, f"{done} Nothing else is left to settle.")
        return redirect("adjudication_queue", slug=project.slug)
    messages.success(request, f"{done} Next: {following.item_name}.")
    url = _item_url(project, following.seed_task, following.response)
    return redirect(f"{url}?schema={following.schema_id}")


def _show_refusal(
    exc: ValidationError, *, meta: GoldMetaForm, schema: RatingSchema, field_errors: dict[str, str]
) -> None:
    """Put the service's messages next to what they are about: a gold value, a form field, or the form."""
    for key, errors in exc.message_dict.items():
        if key in meta.fields:
            meta.add_error(key, errors)
        elif key in {f["key"] for f in schema.fields}:
            field_errors[key] = " ".join(errors)
        else:
            meta.add_error(None, errors)


def _item_context(project: Project, disagreement: Disagreement, *, reveal: bool, gold: GoldLabel | None) -> dict:
    seed_task, response = disagreement.seed_task, disagreement.response
    return {
        "project": project,
        "schema": disagreement.schema,
        "item": disagreement.item,
        "seed_task": seed_task,
        "response": response,
        "disagreement": disagreement,
        "reveal": reveal,
        "columns": review_columns(disagreement=disagreement, reveal=reveal),
        "rows": field_rows(disagreement=disagreement),
        "edits": text_edits(disagreement=disagreement, reveal=reveal),
        "gold": gold,
        "soft_label": soft_label_rows(schema=disagreement.schema, soft_label=gold.soft_label) if gold else [],
        "item_url": _item_url(project, seed_task, response),
        "decision_form": DecisionForm() if seed_task is not None else None,
    }


@login_required
@require_POST
def task_decide(request: HttpRequest, slug: str, task_id: int) -> HttpResponse:
    project = access_project_for_adjudication(user=request.user, slug=slug)
    task = access_item_for_adjudication(user=request.user, project=project, task_id=task_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose accept or reject.")
    else:
        try:
            event = seed_task_decide(
                task=task,
                actor=request.user,
                action=form.cleaned_data["action"],
                rationale=form.cleaned_data["rationale"],
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, f"Task {task.pk} {event.get_action_display().lower()}ed (decision #{event.pk}).")
    return redirect("adjudicate_task", slug=project.slug, task_id=task.pk)


@login_required
@require_http_methods(["GET", "POST"])
def bulk_decide(request: HttpRequest, slug: str) -> HttpResponse:
    """Filter, preview how many tasks would change, then confirm: the confirmation carries a fingerprint
    of the previewed tasks, so a filter that selects something else by then changes nothing."""
    project = access_project_for_adjudication(user=request.user, slug=slug)
    data = request.POST if request.method == "POST" else request.GET
    form = BulkDecisionForm(data if "action" in data else None)
    filter_params = {key: data.get(key, "") for key in FILTER_KEYS}
    status = 200
    if request.method == "POST" and form.is_valid():
        if _bulk_confirm(request, project, form, filter_params):
            return redirect("bulk_decide", slug=project.slug)
        status = 409
    preview = None
    if form.is_bound and form.is_valid():
        preview = _bulk_preview(request, project, form, filter_params)
        status = status if preview is not None else 400
    return render(
        request,
        "curation/adjudication/bulk_decide.html",
        {
            "project": project,
            "filter": SeedTaskFilter(data, queryset=seed_tasks_of(project=project)).with_vocabulary_choices(),
            "form": form,
            "preview": preview,
            "filter_params": filter_params,
            "action_label": AcceptanceAction(form.cleaned_data["action"]).label if preview else "",
            "events": AcceptanceEvent.objects.filter(project=project).select_related("actor")[:20],
        },
        status=status,
    )


def _bulk_confirm(request: HttpRequest, project: Project, form: BulkDecisionForm, filter_params: dict) -> bool:
    """Apply the confirmed decision and say how many tasks it changed; False (with the reason shown)
    when the tasks the filter selects are no longer the ones previewed."""
    try:
        event = seed_tasks_decide_by_filter(
            project=project,
            actor=request.user,
            action=form.cleaned_data["action"],
            tasks=seed_tasks_matching(project=project, filter_params=filter_params),
            filter_params=filter_params,
            expected_fingerprint=request.POST.get("fingerprint", ""),
            rationale=request.POST.get("rationale", ""),
            skip_disputed=form.cleaned_data["skip_disputed"],
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return False
    count = event.task_count
    action = event.get_action_display().lower()
    messages.success(request, f"{count} task{'s' if count != 1 else ''} {action}ed (decision #{event.pk}).")
    return True


def _bulk_preview(
    request: HttpRequest, project: Project, form: BulkDecisionForm, filter_params: dict
) -> DecisionPreview | None:
    """What the decision would change; None (with the reason shown) when the filter cannot be used."""
    try:
        return seed_tasks_decision_preview(
            project=project,
            action=form.cleaned_data["action"],
            tasks=seed_tasks_matching(project=project, filter_params=filter_params),
            skip_disputed=form.cleaned_data["skip_disputed"],
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return None


@login_required
@require_http_methods(["GET", "POST"])
def adjudication_settings_edit(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_project_for_adjudication(user=request.user, slug=slug)
    form = AdjudicationSettingsForm(request.POST or None, instance=adjudication_settings_of(project=project))
    if request.method == "POST" and form.is_valid():
        change = adjudication_settings_update(
            project=project,
            actor=request.user,
            rule=form.cleaned_data["rule"],
            min_spread=form.cleaned_data["min_spread"],
            dynamic_overlap=form.cleaned_data["dynamic_overlap"],
        )
        messages.success(request, "Saved. The queue is being found again under the new rule.")
        if change.overlap_turned_on:
            messages.info(
                request, "Dynamic overlap is on: items already in dispute are being sent to one more reviewer."
            )
        return redirect("adjudication_queue", slug=project.slug)
    return render(
        request,
        "curation/adjudication/settings.html",
        {"project": project, "form": form},
        status=400 if form.is_bound else 200,
    )
