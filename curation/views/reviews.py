"""The clinician's review workspace: my queue, the next item, and the review page with its htmx parts."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from curation.access import access_assignment, access_project
from curation.forms.reviews import answers_from_post, form_fields
from curation.forms.seed_tasks import SeedTaskEditForm
from curation.models import FLAG_ANSWER_FIELD, Assignment, AssignmentStatus, FlagKind, Project
from curation.pagination import page_from_request
from curation.schemas.definitions import prompt_rubric_field
from curation.selectors.projects import rounds_to_judge
from curation.selectors.reviews import (
    QUEUE_ORDERING,
    assignment_item_loaded,
    my_flags_on,
    review_current_of,
    review_progress,
    review_queue_for,
    reviews_of_others_visible,
)
from curation.selectors.rubrics import rubric_to_grade
from curation.services.assignments import assignment_next, assignment_skip
from curation.services.flags import item_flag_raise
from curation.services.reviews import review_draft_save, review_submit_for_assignment
from curation.services.seed_tasks import EDITABLE_FIELDS, EditConflict, seed_task_edit
from curation.text.distance import word_edit_distance

QUEUE_PAGE_SIZE = 25


def _item_url(project: Project, assignment: Assignment) -> str:
    return reverse("review_item", args=[project.slug, assignment.pk])


def _go_next(request: HttpRequest, project: Project) -> HttpResponse:
    nxt = assignment_next(project=project, reviewer=request.user)
    if nxt is None:
        messages.success(request, "Nothing left to review in this project. Thank you.")
        return redirect("review_queue", slug=project.slug)
    return redirect(_item_url(project, nxt))


@login_required
def review_queue(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_project(user=request.user, slug=slug)
    queue = review_queue_for(user=request.user, project=project)
    page = page_from_request(request, queue, ordering=QUEUE_ORDERING, size=QUEUE_PAGE_SIZE)
    template = "curation/reviews/queue.html" + ("#queue" if request.htmx else "")
    return render(
        request,
        template,
        {
            "project": project,
            "page": page,
            "progress": review_progress(user=request.user, project=project),
            "rounds": rounds_to_judge(user=request.user, project=project),
        },
    )


@login_required
@require_POST
def review_next(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_project(user=request.user, slug=slug)
    return _go_next(request, project)


def _schema(assignment: Assignment):
    project = assignment.project
    return project.response_schema if assignment.response_id else project.seed_schema


def _edit_form_for(task) -> SeedTaskEditForm:
    return SeedTaskEditForm(initial={**{f: getattr(task, f) for f in EDITABLE_FIELDS}, "version": task.version})


def _fields_drawn(schema, values: dict, errors: dict | None, assignment: Assignment, reviewer) -> list[dict]:
    """The form's fields as the page draws them. An optional flags field is left out: the page's Flags
    panel raises the same flags at once, with a note, and one control per purpose is enough. A field
    grading the prompt's rubric gets the response's accepted rubric and the reviewer's own final marks."""
    if schema is None:
        return []
    rubric = None
    if prompt_rubric_field(schema.definition) is not None:
        rubric = rubric_to_grade(response=assignment.response, grader=reviewer)
    fields = form_fields(schema.definition, values, errors, rubric=rubric)
    return [f for f in fields if f["key"] != FLAG_ANSWER_FIELD or f["required"]]


def _page_context(
    request: HttpRequest,
    project: Project,
    assignment: Assignment,
    *,
    values: dict | None = None,
    errors: dict | None = None,
    corrected_text: str | None = None,
    submission_key: str | None = None,
    edit_form: SeedTaskEditForm | None = None,
    conflict: dict | None = None,
) -> dict:
    assignment_item_loaded(assignment=assignment)
    schema = _schema(assignment)
    mine = review_current_of(assignment=assignment) if assignment.status == AssignmentStatus.DONE else None
    draft = getattr(assignment, "draft", None) if assignment.status == AssignmentStatus.PENDING else None
    if values is None:
        values = (mine.answers if mine else None) or (draft.answers if draft else {})
    original = assignment.response.text if assignment.response_id else ""
    if corrected_text is None:
        corrected_text = (mine.corrected_text if mine else "") or (draft.corrected_text if draft else "") or original
    return {
        "project": project,
        "assignment": assignment,
        "task": assignment.seed_task,
        "response": assignment.response,
        "prompt": assignment.response.item if assignment.response_id else None,
        # What the guidelines ask reviewers to rate a response against (a test prompt has none).
        "reference_output": getattr(assignment.response.item, "reference_output", "") if assignment.response_id else "",
        "schema": schema,
        "fields": _fields_drawn(schema, values, errors, assignment, request.user),
        "non_field_errors": (errors or {}).get("__all__", []),
        "corrected_text": corrected_text,
        "edit_distance": word_edit_distance(original, corrected_text) if assignment.response_id else None,
        "draft": draft,
        "mine": mine,
        "others": reviews_of_others_visible(assignment=assignment),
        "flags": my_flags_on(user=request.user, assignment=assignment),
        "flag_kinds": FlagKind.choices,
        "progress": review_progress(user=request.user, project=project),
        "submission_key": submission_key or uuid.uuid4(),
        "edit_form": edit_form,
        "conflict": conflict,
    }


@login_required
def review_item(request: HttpRequest, slug: str, assignment_id: int) -> HttpResponse:
    """GET shows the item and its form; POST submits the review and opens the next item."""
    project = access_project(user=request.user, slug=slug)
    assignment = access_assignment(user=request.user, assignment_id=assignment_id, project=project)
    if request.method != "POST":
        return render(request, "curation/reviews/item.html", _page_context(request, project, assignment))
    schema = _schema(assignment)
    answers = answers_from_post(schema.definition, request.POST) if schema else {}
    corrected = request.POST.get("corrected_text", "").replace("\r\n", "\n")
    raw_key = request.POST.get("submission_key", "")
    try:
        key = uuid.UUID(raw_key)
    except ValueError:
        key = None
    try:
        if key is None:
            raise ValidationError({"__all__": ["The form is missing its submission key; reload the page."]})
        review_submit_for_assignment(
            assignment_id=assignment.pk,
            reviewer=request.user,
            answers=answers,
            corrected_text=corrected,
            submission_key=key,
        )
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        context = _page_context(
            request,
            project,
            assignment,
            values=answers,
            errors=errors,
            corrected_text=corrected,
            submission_key=raw_key if key else None,
        )
        return render(request, "curation/reviews/item.html", context, status=400)
    messages.success(request, "Review submitted.")
    return _go_next(request, project)


@login_required
@require_POST
def review_draft(request: HttpRequest, slug: str, assignment_id: int) -> HttpResponse:
    project = access_project(user=request.user, slug=slug)
    assignment = access_assignment(user=request.user, assignment_id=assignment_id, project=project)
    schema = _schema(assignment)
    corrected = request.POST.get("corrected_text", "").replace("\r\n", "\n")
    error = ""
    draft = None
    try:
        draft = review_draft_save(
            assignment=assignment,
            answers=answers_from_post(schema.definition, request.POST) if schema else {},
            corrected_text=corrected,
        )
    except ValidationError as exc:
        error = " ".join(exc.messages)
    original = assignment.response.text if assignment.response_id else ""
    context = {
        "project": project,
        "assignment": assignment,
        "draft": draft,
        "draft_error": error,
        "edit_distance": word_edit_distance(original, corrected) if assignment.response_id else None,
        "oob": True,
    }
    # 200 even for a refused draft: htmx swaps only 2xx answers, and the message is what to show.
    return render(request, "curation/reviews/item.html#draft-status", context)


def _task_edit_submit(request: HttpRequest, task):
    """(form, task, conflict, status) after a posted edit: 200 saved, 409 a newer version won, 400 refused."""
    form = SeedTaskEditForm(request.POST)
    if not form.is_valid():
        return form, task, None, 400
    changes = {field: form.cleaned_data[field] for field in EDITABLE_FIELDS}
    try:
        task = seed_task_edit(
            task_id=task.pk,
            editor=request.user,
            expected_version=form.cleaned_data["version"],
            changes=changes,
            rationale=form.cleaned_data["rationale"],
        )
    except EditConflict as exc:
        form = SeedTaskEditForm(
            initial={**changes, "rationale": form.cleaned_data["rationale"], "version": exc.current.version}
        )
        return form, exc.current, {"theirs": exc.current, "mine": changes}, 409
    except ValidationError as exc:
        for field, problems in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
        return form, task, None, 400
    return form, task, None, 200


@login_required
def review_task_edit_view(request: HttpRequest, slug: str, assignment_id: int) -> HttpResponse:
    """Edit the seed task in place on its review page: a revision with a rationale, never a silent overwrite."""
    project = access_project(user=request.user, slug=slug)
    assignment = access_assignment(user=request.user, assignment_id=assignment_id, project=project)
    if assignment.seed_task_id is None:
        return HttpResponse("Only a seed task is edited from its review page.", status=404)
    task = assignment_item_loaded(assignment=assignment).seed_task
    conflict = None
    status = 200
    if request.method == "POST":
        form, task, conflict, status = _task_edit_submit(request, task)
        if status == 200:
            if request.htmx:
                assignment.seed_task = task
                context = {"project": project, "assignment": assignment, "task": task, "saved": True}
                response = render(request, "curation/reviews/item.html#task-panel", context)
                trigger_client_event(response, "taskEdited", {"version": task.version})
                return response
            messages.success(request, "Edit saved. It is in the task's history.")
            return redirect(_item_url(project, assignment))
    elif request.GET.get("view"):
        form = None  # "Cancel": the task as it is, without the form
    else:
        form = _edit_form_for(task)
        form.fields["instruction"].widget.attrs["autofocus"] = True
    assignment.seed_task = task
    if request.htmx:
        # htmx swaps only 2xx answers: the conflict or the errors are the fragment to show.
        return render(
            request,
            "curation/reviews/item.html#task-panel",
            {"project": project, "assignment": assignment, "task": task, "edit_form": form, "conflict": conflict},
        )
    context = _page_context(request, project, assignment, edit_form=form, conflict=conflict)
    return render(request, "curation/reviews/item.html", context, status=status)


@login_required
@require_POST
def review_flag(request: HttpRequest, slug: str, assignment_id: int) -> HttpResponse:
    project = access_project(user=request.user, slug=slug)
    assignment = access_assignment(user=request.user, assignment_id=assignment_id, project=project)
    error = ""
    try:
        item_flag_raise(
            reviewer=request.user,
            kind=request.POST.get("kind", ""),
            seed_task=assignment.seed_task,
            response=assignment.response,
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        error = " ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    if not request.htmx:
        if error:
            messages.error(request, f"The flag was not raised. {error}")
        else:
            messages.success(request, "Flag raised. Unsafe and PHI flags go to the curators' attention list.")
        return redirect(_item_url(project, assignment))
    context = {
        "project": project,
        "assignment": assignment,
        "flags": my_flags_on(user=request.user, assignment=assignment),
        "flag_kinds": FlagKind.choices,
        "flag_error": error,
    }
    return render(request, "curation/reviews/item.html#flags", context)


@login_required
@require_POST
def review_skip(request: HttpRequest, slug: str, assignment_id: int) -> HttpResponse:
    project = access_project(user=request.user, slug=slug)
    assignment = access_assignment(user=request.user, assignment_id=assignment_id, project=project)
    try:
        assignment_skip(assignment=assignment)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_item_url(project, assignment))
    messages.info(request, "Skipped: the item goes back to the pool for someone else.")
    return _go_next(request, project)
