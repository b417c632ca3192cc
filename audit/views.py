"""The audit trail for admins: a filtered page (newest first, keyset pagination) and a streamed JSON Lines export."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.access import require_admin

from . import selectors, services
from .forms import AuditFilterForm
from .models import AuditAction

PAGE_SIZE = 100


def _cursor(request: HttpRequest) -> int | None:
    value = request.GET.get("before", "")
    return int(value) if value.isdigit() else None


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    require_admin(user=request.user)
    form = AuditFilterForm(request.GET or None)
    filters = form.selector_filters() if form.is_bound and form.is_valid() else {}
    events = []
    if not form.is_bound or form.is_valid():
        events = list(selectors.audit_events(**filters, before_id=_cursor(request))[: PAGE_SIZE + 1])
    more = len(events) > PAGE_SIZE
    events = events[:PAGE_SIZE]
    names = selectors.audit_project_names(project_ids={e.project_id for e in events if e.project_id})
    for event in events:
        event.project_name = names.get(event.project_id, "")
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "form": form,
        "events": events,
        "older": events[-1].pk if more else None,
        "filter_query": query.urlencode(),
        "head": selectors.audit_chain_head(),
    }
    return render(request, "audit/events.html", context)


@login_required
def audit_export(request: HttpRequest) -> HttpResponse:
    """Every event the filters select, oldest first, one JSON object a line, streamed as it is read."""
    require_admin(user=request.user)
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return HttpResponse(f"Export refused: {problems}", status=400, content_type="text/plain; charset=utf-8")
    filters = form.selector_filters() if form.is_bound else {}
    services.audit_record(action=AuditAction.AUDIT_EXPORTED, after={"filters": request.GET.dict()})
    response = StreamingHttpResponse(selectors.audit_export_lines(**filters), content_type="application/x-ndjson")
    response["Content-Disposition"] = f'attachment; filename="audit-{timezone.now():%Y%m%d-%H%M%S}.jsonl"'
    return response
