"""A release's data file and card as HTTP responses: the same for the releases pages and the API.

Callers check access first (curation.access.access_release).
"""

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, HttpResponse

from audit.services import AuditAction, audit_record
from curation.models import Release, ReleaseStatus


def _not_ready(release: Release) -> HttpResponse:
    return HttpResponse(
        f"Release {release.pk} is {release.get_status_display().lower()}: there is nothing to download.",
        status=409,
        content_type="text/plain; charset=utf-8",
    )


def release_file_response(release: Release) -> HttpResponse:
    """The release's data file as an attachment; 409 while it is not built, 410 once its file is gone."""
    if release.status != ReleaseStatus.SUCCEEDED:
        return _not_ready(release)
    path = Path(settings.MEDIA_ROOT) / release.file_path
    extension = path.suffix
    try:
        data = open(path, "rb")  # noqa: SIM115 - FileResponse closes it when the response is sent
    except FileNotFoundError:
        return HttpResponse(
            f"Release {release.pk}'s file is no longer in storage ({release.file_path}); its manifest remains.",
            status=410,
            content_type="text/plain; charset=utf-8",
        )
    response = FileResponse(
        data,
        as_attachment=True,
        filename=f"{release.project.slug}-release-{release.pk}-{release.format}{extension}",
        content_type="text/csv; charset=utf-8" if extension == ".csv" else "application/x-ndjson; charset=utf-8",
    )
    response["X-Content-SHA256"] = release.sha256
    audit_record(
        action=AuditAction.RELEASE_DOWNLOADED,
        target=release,
        after={"file": release.file_path, "sha256": release.sha256},
    )
    return response


def release_card_response(release: Release) -> HttpResponse:
    """The release's dataset card (README.md) as an attachment; 409 while it is not built."""
    if release.status != ReleaseStatus.SUCCEEDED:
        return _not_ready(release)
    response = HttpResponse(release.card, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{release.project.slug}-release-{release.pk}-README.md"'
    audit_record(action=AuditAction.RELEASE_DOWNLOADED, target=release, after={"file": "README.md"})
    return response
