"""Rubric pages: list, editor, review, blind grading and results. HTTP only: the rules are the services'."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from curation.access import (
    access_project,
    access_prompt,
    access_response_for_grading,
    access_rubric,
    access_rubric_results,
)
from curation.forms.rubrics import RubricFileForm, RubricSettingsForm, criteria_from_post, marks_from_post
from curation.models import Axis
from curation.selectors.judges import judge_kinds, judge_panel, pairwise_judge_panel
from curation.selectors.rubrics import (
    consensus_library,
    criterion_agreement,
    judges_of,
    leaderboard_tags,
    prompts_without_rubric,
    rubric_criteria,
    rubric_current_version,
    rubric_leaderboard,
    rubric_responses_to_grade,
    rubric_versions,
    rubrics_of,
)
from curation.services.rubric_imports import rubric_file_import
from curation.services.rubrics import (
    rubric_accept,
    rubric_create,
    rubric_edit,
    rubric_grade_submit,
    rubric_settings_of,
    rubric_settings_update,
    rubric_submit,
)
from curation.text.plural import counted


@login_required
def rubric_list(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_project(user=request.user, slug=slug)
    context = {
        "project": project,
        "rubrics": rubrics_of(project=project),
        "prompts": prompts_without_rubric(project=project)[:50],
        "to_grade": rubric_responses_to_grade(project=project, grader=request.user).count(),
    }
    return render(request, "curation/rubrics/list.html", context)


def _editor_context(project, prompt, rubric, errors=None, posted=None) -> dict:
    criteria = rubric_criteria(version=rubric_current_version(rubric=rubric)) if rubric else []
    return {
        "project": project,
        "prompt": prompt,
        "rubric": rubric,
        "criteria": posted if posted is not None else criteria,
        "axes": Axis.choices,
        "library": consensus_library(project=project),
        "versions": rubric_versions(rubric=rubric) if rubric else [],
        "errors": errors or {},
    }


@login_required
def rubric_editor(request: HttpRequest, slug: str, prompt_id: int) -> HttpResponse:
    """Write a prompt's rubric, or edit it into a new version with a rationale."""
    project = access_project(user=request.user, slug=slug)
    prompt = access_prompt(user=request.user, project=project, prompt_id=prompt_id)
    rubric = getattr(prompt, "rubric", None)
    if request.method != "POST":
        return render(request, "curation/rubrics/editor.html", _editor_context(project, prompt, rubric))
    criteria = criteria_from_post(request.POST)
    try:
        if rubric is None:
            rubric = rubric_create(prompt=prompt, author=request.user, criteria=criteria)
        else:
            rubric = rubric_edit(
                rubric_id=rubric.pk,
                editor=request.user,
                expected_version=int(request.POST.get("version") or 0),
                criteria=criteria,
                rationale=request.POST.get("rationale", ""),
            )
        if request.POST.get("submit_for_review") and rubric.status == "draft":
            rubric_submit(rubric_id=rubric.pk, author=request.user)
    except ValidationError as exc:
        context = _editor_context(project, prompt, rubric, exc.message_dict, posted=criteria)
        return render(request, "curation/rubrics/editor.html", context, status=400)
    messages.success(request, f"Rubric saved as version {rubric.version} ({rubric.get_status_display().lower()}).")
    return redirect("rubric_review", slug=project.slug, rubric_id=rubric.pk)


@login_required
def rubric_review(request: HttpRequest, slug: str, rubric_id: int) -> HttpResponse:
    """The rubric as it stands, its versions and, for a second clinician, accept or edit with a rationale."""
    project = access_project(user=request.user, slug=slug)
    rubric = access_rubric(user=request.user, project=project, rubric_id=rubric_id)
    version = rubric_current_version(rubric=rubric)
    context = {
        "project": project,
        "rubric": rubric,
        "version": version,
        "criteria": rubric_criteria(version=version),
        "versions": rubric_versions(rubric=rubric),
        "can_review": rubric.status == "in_review" and version.created_by_id != request.user.pk,
    }
    return render(request, "curation/rubrics/review.html", context)


@login_required
@require_POST
def rubric_accept_view(request: HttpRequest, slug: str, rubric_id: int) -> HttpResponse:
    project = access_project(user=request.user, slug=slug)
    rubric = access_rubric(user=request.user, project=project, rubric_id=rubric_id)
    try:
        rubric_accept(rubric_id=rubric.pk, reviewer=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Rubric accepted; its responses can be graded.")
    return redirect("rubric_review", slug=project.slug, rubric_id=rubric.pk)


@login_required
def rubric_grade_next(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_project(user=request.user, slug=slug)
    response = rubric_responses_to_grade(project=project, grader=request.user).first()
    if response is None:
        messages.info(request, "Nothing left to grade.")
        return redirect("rubric_list", slug=project.slug)
    return redirect("rubric_grade", slug=project.slug, response_id=response.pk)


@login_required
def rubric_grade(request: HttpRequest, slug: str, response_id: int) -> HttpResponse:
    """Blind grading: the prompt, the answer and the criteria; never the model or anyone's marks."""
    project = access_project(user=request.user, slug=slug)
    response = access_response_for_grading(user=request.user, project=project, response_id=response_id)
    rubric = response.prompt.rubric
    criteria = rubric_criteria(version=rubric_current_version(rubric=rubric))
    marks, errors = {}, []
    if request.method == "POST":
        marks = marks_from_post(request.POST, [c.pk for c in criteria])
        try:
            rubric_grade_submit(response=response, grader=request.user, marks=marks)
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, "Grade submitted.")
            return redirect("rubric_grade_next", slug=project.slug)
    context = {
        "project": project,
        "rubric": rubric,
        "response": response,
        "criteria": [(c, marks.get(c.pk)) for c in criteria],
        "show_points": rubric_settings_of(project=project).show_points_to_graders,
        "errors": errors,
    }
    return render(request, "curation/rubrics/grade.html", context, status=400 if errors else 200)


@login_required
def rubric_results(request: HttpRequest, slug: str) -> HttpResponse:
    """Leaderboard per model with CIs, per axis and theme; clinician agreement; each judge's panels (rubric
    verdicts, pairwise votes)."""
    project = access_rubric_results(user=request.user, slug=slug)
    board = rubric_leaderboard(project=project)
    kinds = judge_kinds(project=project)
    judges = [judge for judge in judges_of(project=project) if judge.pk in kinds]
    columns = leaderboard_tags(board, "axis:") + leaderboard_tags(board, "theme:")
    context = {
        "project": project,
        "columns": columns,
        "board": [(scores, [scores.by_tag.get(tag) for tag in columns]) for scores in board],
        "agreement": criterion_agreement(project=project).get("all"),
        "panels": [(j, judge_panel(project=project, judge=j)) for j in judges if "rubric" in kinds[j.pk]],
        "pairwise_panels": [
            (j, pairwise_judge_panel(project=project, judge=j)) for j in judges if "pairwise" in kinds[j.pk]
        ],
    }
    return render(request, "curation/rubrics/results.html", context)


def _imported(result) -> str:
    if result.kind == "verdicts":
        return f"Imported {counted(result.verdicts, 'judge verdict')}."
    return f"Imported {counted(result.rubrics, 'rubric')} and {counted(result.labels, 'physician label')}."


@login_required
def rubric_upload(request: HttpRequest, slug: str) -> HttpResponse:
    """Curators upload a HealthBench file or a judge's verdicts: all or nothing, a problem named by its line."""
    project = access_rubric_results(user=request.user, slug=slug)
    form = RubricFileForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        name, text = form.cleaned_data["file"]
        try:
            result = rubric_file_import(project=project, text=text, name=name)
        except ValidationError as exc:
            errors = [f"{name}: {message}" for message in exc.messages]
        else:
            messages.success(request, _imported(result))
            return redirect("rubric_list", slug=project.slug)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "curation/rubrics/upload.html", {"project": project, "form": form, "errors": errors}, status=status
    )


@login_required
def rubric_settings(request: HttpRequest, slug: str) -> HttpResponse:
    """Curators choose whether graders see the criteria's points."""
    project = access_rubric_results(user=request.user, slug=slug)
    current = rubric_settings_of(project=project)
    posted = request.POST if request.method == "POST" else None  # an unticked box posts nothing
    form = RubricSettingsForm(posted, initial={"show_points_to_graders": current.show_points_to_graders})
    if posted is not None and form.is_valid():
        rubric_settings_update(
            project=project, changed_by=request.user, show_points_to_graders=form.cleaned_data["show_points_to_graders"]
        )
        shown = "see" if form.cleaned_data["show_points_to_graders"] else "no longer see"
        messages.success(request, f"Graders now {shown} each criterion's points.")
        return redirect("rubric_settings", slug=project.slug)
    return render(request, "curation/rubrics/settings.html", {"project": project, "form": form})
