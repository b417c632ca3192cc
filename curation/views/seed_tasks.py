from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from curation.access import access_project, access_task, access_task_for_edit
from curation.filters import SeedTaskFilter
from curation.forms.seed_tasks import SeedTaskEditForm
from curation.pagination import page_from_request
from curation.selectors.seed_tasks import seed_task_history, seed_tasks_not_searchable_yet, seed_tasks_of
from curation.services.seed_tasks import EDITABLE_FIELDS, EditConflict, seed_task_edit

PAGE_SIZE = 25


@login_required
def task_list(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_project(user=request.user, slug=slug)
    # The rows show a task's instruction, not its input or reference output: those stay in the database.
    tasks = seed_tasks_of(project=project).defer("input", "reference_output")
    task_filter = SeedTaskFilter(request.GET, queryset=tasks)
    if not request.htmx:  # the table alone, swapped in by htmx, does not draw the filters
        task_filter.with_vocabulary_choices()
    page = page_from_request(request, task_filter.qs, ordering=("id",), size=PAGE_SIZE)
    # A search says which imports it cannot see into yet, rather than silently missing their tasks.
    searching = bool(task_filter.form.cleaned_data.get("q", "").strip()) if task_filter.is_valid() else False
    unsearchable = seed_tasks_not_searchable_yet(project=project) if searching else []
    template = "curation/seed_tasks/list.html" + ("#task-table" if request.htmx else "")
    context = {"project": project, "filter": task_filter, "page": page, "not_searchable": unsearchable}
    return render(request, template, context)


@login_required
def task_detail(request: HttpRequest, slug: str, task_id: int) -> HttpResponse:
    project = access_project(user=request.user, slug=slug)
    task = access_task(user=request.user, task_id=task_id, project=project)
    return render(
        request,
        "curation/seed_tasks/detail.html",
        {"project": project, "task": task, "history": seed_task_history(task=task, viewer=request.user)},
    )


@login_required
def task_edit(request: HttpRequest, slug: str, task_id: int) -> HttpResponse:
    project = access_project(user=request.user, slug=slug)
    task = access_task_for_edit(user=request.user, task_id=task_id, project=project)
    conflict = None
    if request.method == "POST":
        form = SeedTaskEditForm(request.POST)
        if form.is_valid():
            changes = {field: form.cleaned_data[field] for field in EDITABLE_FIELDS}
            try:
                seed_task_edit(
                    task_id=task.pk,
                    editor=request.user,
                    expected_version=form.cleaned_data["version"],
                    changes=changes,
                    rationale=form.cleaned_data["rationale"],
                )
            except EditConflict as exc:
                conflict = {"theirs": exc.current, "mine": changes}
                task = exc.current
                form = SeedTaskEditForm(
                    initial={
                        **changes,
                        "rationale": form.cleaned_data["rationale"],
                        "version": exc.current.version,
                    }
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, "Saved. The edit is in the task's history.")
                return redirect("task_detail", slug=project.slug, task_id=task.pk)
        status = 409 if conflict else 200
    else:
        form = SeedTaskEditForm(initial={**{f: getattr(task, f) for f in EDITABLE_FIELDS}, "version": task.version})
        status = 200
    return render(
        request,
        "curation/seed_tasks/edit.html",
        {"project": project, "task": task, "form": form, "conflict": conflict},
        status=status,
    )


@login_required
def project_guidelines(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_project(user=request.user, slug=slug)
    return render(request, "curation/projects/guidelines.html", {"project": project})
