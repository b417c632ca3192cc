"""A project's Members tab: curators add people to a project and take them off it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from curation.access import access_member, access_project, access_project_as_curator
from curation.forms.members import MemberAddForm
from curation.selectors.members import members_addable, members_of
from curation.services.members import project_member_add, project_member_remove


@login_required
def member_list(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_project_as_curator(user=request.user, slug=slug)
    form = MemberAddForm(request.POST or None, people=members_addable(project=project))
    if request.method == "POST" and form.is_valid():
        added = []
        for person in form.cleaned_data["people"]:
            try:
                project_member_add(project=project, user=person)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                added.append(person.email)
        if added:
            messages.success(request, f"Added to {project.name}: {', '.join(added)}.")
        return redirect("member_list", slug=project.slug)
    context = {"project": project, "members": members_of(project=project), "form": form}
    return render(request, "curation/members/list.html", context, status=400 if form.errors else 200)


@require_POST
@login_required
def member_remove(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    project = access_project(user=request.user, slug=slug)
    person = access_member(user=request.user, project=project, user_id=user_id)
    released = project_member_remove(project=project, user=person)
    messages.success(
        request,
        f"{person.email} is no longer a member of {project.name}; their reviews stay, "
        f"and {released} open assignment{'s' if released != 1 else ''} went back to the pool.",
    )
    return redirect("member_list", slug=project.slug)
