"""Evaluation round screens: the list, setup and freezing (curators), judging (reviewers), results (curators).

The judging screen never names a model: the reviewer sees "A" (left) and "B" (right) and the slot
id; which model wrote which answer stays on the server.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from curation.access import (
    access_project,
    access_project_as_curator,
    access_round,
    access_round_for_curation,
    access_round_slot,
)
from curation.charts import leaderboard_chart
from curation.formats.writers.rounds_csv import results_csv_lines, votes_csv_lines
from curation.forms.reviews import answers_from_post, form_fields
from curation.forms.rounds import RoundCreateForm
from curation.models import Axis, EvaluationRound, RoundSlot
from curation.selectors.computations import LatestResult
from curation.selectors.round_judging import round_next_slot
from curation.selectors.round_results import round_votes
from curation.selectors.rounds import round_progress, round_progress_by_reviewer, rounds_visible_to
from curation.selectors.rubrics import rubric_to_grade
from curation.services.round_judging import judgment_submit
from curation.services.round_results import round_results_latest
from curation.services.round_schedules import round_close, round_freeze
from curation.services.rounds import round_create


@login_required
def round_list(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_project(user=request.user, slug=slug)
    rounds = rounds_visible_to(user=request.user, project=project)
    return render(request, "curation/rounds/list.html", {"project": project, "rounds": rounds})


@login_required
def round_create_view(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_project_as_curator(user=request.user, slug=slug)
    form = RoundCreateForm(request.POST or None, project=project)
    if request.method == "POST" and form.is_valid():
        try:
            evaluation_round = round_create(project=project, created_by=request.user, **form.service_arguments())
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(
                request,
                f"Round set up with {evaluation_round.round_prompts.count()} prompts. "
                "Check it, then freeze it to open judging.",
            )
            return redirect("round_detail", slug=project.slug, round_id=evaluation_round.pk)
    return render(request, "curation/rounds/create.html", {"project": project, "form": form})


@login_required
def round_detail(request: HttpRequest, slug: str, round_id: int) -> HttpResponse:
    project = access_project(user=request.user, slug=slug)
    evaluation_round = access_round(user=request.user, project=project, round_id=round_id)
    context: dict[str, Any] = {
        "project": project,
        "round": evaluation_round,
        "mine": round_progress(evaluation_round=evaluation_round, reviewer=request.user),
        "is_reviewer": evaluation_round.reviewers.filter(pk=request.user.pk).exists(),
    }
    if request.user.is_curator:
        context |= {
            "progress": round_progress(evaluation_round=evaluation_round),
            "prompt_count": evaluation_round.round_prompts.count(),
            "reviewer_progress": round_progress_by_reviewer(evaluation_round=evaluation_round),
        }
    return render(request, "curation/rounds/detail.html", context)


@login_required
@require_POST
def round_freeze_view(request: HttpRequest, slug: str, round_id: int) -> HttpResponse:
    return _round_step(
        request, slug, round_id, round_freeze, "Frozen: the schedule is set and reviewers can start judging."
    )


@login_required
@require_POST
def round_close_view(request: HttpRequest, slug: str, round_id: int) -> HttpResponse:
    return _round_step(
        request, slug, round_id, round_close, "Closed: no more judgments are taken; the results stay available."
    )


def _round_step(
    request: HttpRequest,
    slug: str,
    round_id: int,
    step: Callable[..., EvaluationRound],
    done: str,
) -> HttpResponse:
    """Move a round on (freeze or close it) and back to its page, saying what happened or why it could not."""
    project = access_project(user=request.user, slug=slug)
    evaluation_round = access_round_for_curation(user=request.user, project=project, round_id=round_id)
    try:
        step(evaluation_round=evaluation_round)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect("round_detail", slug=project.slug, round_id=evaluation_round.pk)


def _judge_context(
    evaluation_round: EvaluationRound,
    slot: RoundSlot | None,
    reviewer,
    values: dict | None = None,
    errors: dict | None = None,
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "round": evaluation_round,
        "slot": slot,
        "mine": round_progress(evaluation_round=evaluation_round, reviewer=reviewer),
        "non_field_errors": (errors or {}).pop("__all__", []),
    }
    if slot is not None:
        # Rubric grading: the response's accepted rubric, and the reviewer's own final marks if any.
        rubric = None
        if evaluation_round.grades_rubric and not evaluation_round.is_pairwise:
            rubric = rubric_to_grade(response=slot.left_response, grader=reviewer)
        fields = form_fields(evaluation_round.schema.definition, values or {}, errors, rubric=rubric)
        context |= {
            "prompt": slot.item.prompt,
            "left_text": slot.left_response.text,
            "right_text": slot.right_response.text if slot.right_response_id else None,
            "choice_fields": [f for f in fields if f["kind"] != "free_text"],
            "text_fields": [f for f in fields if f["kind"] == "free_text"],
        }
    return context


@login_required
def round_judge(request: HttpRequest, slug: str, round_id: int) -> HttpResponse:
    """GET: the reviewer's next item. POST: submit a judgment, then show the next item."""
    project = access_project(user=request.user, slug=slug)
    evaluation_round = access_round(user=request.user, project=project, round_id=round_id)
    template = "curation/rounds/judge.html" + ("#judge-item" if request.htmx else "")
    base = {"project": project}
    if request.method == "POST":
        slot_id = request.POST.get("slot", "")
        if not slot_id.isdigit():
            messages.error(request, "The form did not say which item it judged; nothing was saved.")
            return redirect("round_judge", slug=project.slug, round_id=evaluation_round.pk)
        slot = access_round_slot(user=request.user, evaluation_round=evaluation_round, slot_id=int(slot_id))
        answers = answers_from_post(evaluation_round.schema.definition, request.POST)
        try:
            judgment_submit(slot=slot, reviewer=request.user, answers=answers)
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            context = _judge_context(evaluation_round, slot, request.user, answers, errors)
            return render(request, template, base | context, status=200 if request.htmx else 400)
        if not request.htmx:
            return redirect("round_judge", slug=project.slug, round_id=evaluation_round.pk)
    slot = round_next_slot(evaluation_round=evaluation_round, reviewer=request.user)
    return render(request, template, base | _judge_context(evaluation_round, slot, request.user))


def _results_context(latest: LatestResult) -> dict[str, Any] | None:
    results = latest.result
    if results is None:
        return None
    for axis in results["axes"]:
        if axis.get("bradley_terry"):
            axis["chart"] = leaderboard_chart(axis["bradley_terry"]["ratings"])
    scores_by_model: dict[str, list] = {}
    for row in results["scores"]:
        scores_by_model.setdefault(row["model"], []).append(row)
    results["score_axes"] = list(dict.fromkeys(row["label"] for row in results["scores"]))
    results["score_rows"] = [{"model": model, "cells": rows} for model, rows in scores_by_model.items()]
    if results.get("rubric"):
        board = results["rubric"]
        axes = dict(Axis.choices)
        board["axis_labels"] = [axes.get(tag.removeprefix("axis:"), tag) for tag in board["axes"]]
        board["theme_labels"] = [tag.removeprefix("theme:").replace("_", " ") for tag in board["themes"]]
        board["rows"] = [
            {**m, "cells": [m["by_axis"][t] for t in board["axes"]] + [m["by_theme"][t] for t in board["themes"]]}
            for m in board["models"]
        ]
    return results


@login_required
def round_results_view(request: HttpRequest, slug: str, round_id: int) -> HttpResponse:
    project = access_project(user=request.user, slug=slug)
    evaluation_round = access_round_for_curation(user=request.user, project=project, round_id=round_id)
    # The last results a worker computed, with their age; judgments since queue a new run (never this request).
    latest = round_results_latest(evaluation_round=evaluation_round)
    return render(
        request,
        "curation/rounds/results.html",
        {"project": project, "round": evaluation_round, "results": _results_context(latest), "latest": latest},
    )


@login_required
def round_results_csv(request: HttpRequest, slug: str, round_id: int) -> HttpResponse:
    project = access_project(user=request.user, slug=slug)
    evaluation_round = access_round_for_curation(user=request.user, project=project, round_id=round_id)
    results = round_results_latest(evaluation_round=evaluation_round).result
    if results is None:  # the results page says when they are ready, and offers the file then
        messages.info(request, "The round's results are being computed; the CSV is offered once they are ready.")
        return redirect("round_results", slug=project.slug, round_id=evaluation_round.pk)
    lines = results_csv_lines(results)
    response = HttpResponse(b"".join(lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="round-{evaluation_round.pk}-results.csv"'
    return response


@login_required
def round_votes_csv(request: HttpRequest, slug: str, round_id: int) -> HttpResponse:
    """The round's votes on one axis in the format `manage.py rank_models --votes` reads, so an
    analyst gets the page's numbers back from the file."""
    project = access_project(user=request.user, slug=slug)
    evaluation_round = access_round_for_curation(user=request.user, project=project, round_id=round_id)
    axis = request.GET.get("axis", "overall")
    try:
        votes = round_votes(evaluation_round=evaluation_round, axis=axis)
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(b"".join(votes_csv_lines(votes)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="round-{evaluation_round.pk}-{axis}-votes.csv"'
    return response
