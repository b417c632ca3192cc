"""The curators' PHI queue: texts with their findings marked, each cleared as not PHI or redacted."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_POST

from curation.access import access_phi_finding, access_phi_queue
from curation.models import TaskStatus
from curation.models.phi import PhiFinding, PhiScanRunStatus
from curation.pagination import page_from_request
from curation.selectors.phi import QUEUE_ORDERING, phi_counts, phi_queue, phi_queue_texts, phi_runs_of
from curation.services.phi import phi_scan_run_queue
from curation.services.phi_findings import phi_finding_clear, phi_finding_redact

QUEUE_PAGE_SIZE = 25


def marked_text(text: str, findings: list[PhiFinding]) -> SafeString:
    """`text` escaped, with each finding's span in a <mark> naming its kind (spans never overlap)."""
    parts, position = [], 0
    for finding in sorted(findings, key=lambda f: f.start):
        if finding.start < position or finding.end > len(text):
            continue  # a span that no longer fits the text is listed below it, not marked
        parts.append(escape(text[position : finding.start]))
        parts.append(
            f'<mark class="phi phi-{escape(finding.kind.lower())}" id="finding-{finding.pk}" '
            f'data-kind="{escape(finding.kind)}">{escape(text[finding.start : finding.end])}'
            f'<span class="phi-kind">{escape(finding.kind)}</span></mark>'
        )
        position = finding.end
    parts.append(escape(text[position:]))
    return mark_safe("".join(parts))  # every piece of user text above went through escape()


@login_required
def phi_queue_view(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_phi_queue(user=request.user, slug=slug)
    page = page_from_request(request, phi_queue(project=project), ordering=QUEUE_ORDERING, size=QUEUE_PAGE_SIZE)
    texts = phi_queue_texts(list(page))
    for text in texts:
        text["marked"] = marked_text(text["text"], text["findings"])
    runs = phi_runs_of(project=project)
    running = any(run.status in (PhiScanRunStatus.QUEUED, PhiScanRunStatus.RUNNING) for run in runs)
    context = {
        "project": project,
        "page": page,
        "texts": texts,
        "runs": runs,
        "running": running,
        "counts": phi_counts(project=project),
    }
    template = "curation/phi/queue.html"
    if request.htmx:
        template += "#phi-runs" if request.GET.get("part") == "runs" else "#phi-queue"
    return render(request, template, context)


@login_required
@require_POST
def phi_finding_clear_view(request: HttpRequest, slug: str, finding_id: int) -> HttpResponse:
    project = access_phi_queue(user=request.user, slug=slug)
    finding = access_phi_finding(user=request.user, finding_id=finding_id, project=project)
    try:
        phi_finding_clear(finding_id=finding.pk, curator=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, f"Finding {finding.pk} is still open: {' '.join(exc.messages)}")
    else:
        messages.success(request, f"Finding {finding.pk} ({finding.kind}) cleared as not PHI.")
    return redirect("phi_queue", slug=project.slug)


@login_required
@require_POST
def phi_finding_redact_view(request: HttpRequest, slug: str, finding_id: int) -> HttpResponse:
    project = access_phi_queue(user=request.user, slug=slug)
    finding = access_phi_finding(user=request.user, finding_id=finding_id, project=project)
    # A redaction is a new revision of a task's text, unreviewed: an accepted task goes back to review, and a
    # curator who expects it in the next release must be told.
    reopens = finding.seed_task_id is not None and finding.seed_task.status == TaskStatus.ACCEPTED
    try:
        phi_finding_redact(finding_id=finding.pk, curator=request.user)
    except ValidationError as exc:
        messages.error(request, f"Finding {finding.pk} was not redacted: {' '.join(exc.messages)}")
    else:
        text = f"Finding {finding.pk} redacted as [{finding.kind}]: a new revision was saved."
        if reopens:
            text += f" Seed task {finding.seed_task_id} is back in review: accept it again to release it."
        messages.success(request, text)
    return redirect("phi_queue", slug=project.slug)


@login_required
@require_POST
def phi_scan_start_view(request: HttpRequest, slug: str) -> HttpResponse:
    project = access_phi_queue(user=request.user, slug=slug)
    run = phi_scan_run_queue(project_id=project.pk)
    messages.success(request, f"Scan {run.pk} of the project's unscanned texts queued.")
    return redirect("phi_queue", slug=project.slug)
