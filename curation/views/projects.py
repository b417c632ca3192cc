from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from curation.selectors.disagreements import disagreements_last_counted
from curation.selectors.projects import projects_for_curators, projects_with_my_queue, rounds_to_judge
from curation.selectors.system import last_job_finished, people_counts, worker_status
from curation.services.agreement import project_agreement_last_summaries


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Each role's home: a clinician's queues and rounds to judge; a curator's, what waits on them in
    each project; an admin's, that and the people and the background jobs."""
    user = request.user
    projects = projects_with_my_queue(user=user)
    context = {
        "projects": projects,
        "pending_total": sum(p.my_pending for p in projects),
        "done_total": sum(p.my_done for p in projects),
        "rounds": rounds_to_judge(user=user),
    }
    if user.is_curator:
        ids = [p.pk for p in projects]
        disagreements = disagreements_last_counted(project_ids=ids)
        agreement = project_agreement_last_summaries(project_ids=ids)
        for project in projects_for_curators(projects=projects):
            project.disagreements = disagreements.get(project.pk)
            project.agreement = agreement.get(project.pk)
    if user.is_admin:
        context.update(people_counts(), worker=worker_status(), last_job_finished=last_job_finished())
    return render(request, "curation/projects/dashboard.html", context)
