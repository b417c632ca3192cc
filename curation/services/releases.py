"""Dataset releases: define one, build it on a worker, retry it.

A release's definition (format and filters) is curation.releases_definition; the rows it takes are
read by curation.selectors.releases; the rows are written by curation.formats.writers and its card
by curation.formats.writers.card. This module owns the release's definition and its pseudonym key;
curation.services.release_builds builds it and curation.services.release_attempts decides which
attempt at building it may write (and restarts a build whose worker died).
"""

import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit.services import AuditAction, audit_record
from curation.models import Project, Release, ReleaseFormat, ReleaseKey, ReleaseStatus
from curation.releases_definition import ReleaseDefinition
from curation.selectors.release_counts import release_empty_hint, release_row_count
from curation.services.release_attempts import (
    lease_expired,
    release_interruption_record,
    release_requeue,
    releases_recover_stale,
)

# Built here for the callers that define and build in one go (the command line, tests, benchmarks).
from curation.services.release_builds import release_build  # noqa: F401

logger = logging.getLogger(__name__)

DEFAULT_LICENSE = "CC BY-NC 4.0"


class ReleaseNotRetryable(Exception):
    pass


# --- Creating ---


@transaction.atomic
def release_create(
    *,
    project: Project,
    created_by: User | None,
    format: str,
    filters: Mapping[str, Any] | None = None,
    title: str = "",
    purpose: str = "",
    license: str = DEFAULT_LICENSE,
    enqueue: bool = True,
) -> Release:
    """Define a release and (by default) queue its build on a worker once this transaction commits.

    `format` and `filters` are read by ReleaseDefinition.from_data, as given by a page, the API or the
    command line. Raises ValidationError keyed by field (format, license or a filter name); nothing
    is saved then.
    """
    errors: dict[str, Any] = {}
    license = (license or "").strip()
    if not license:
        errors["license"] = "Say under which license the data may be used."
    try:
        definition = ReleaseDefinition.from_data(project=project, format=format, filters=filters)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    else:
        errors.update(_emptiness(project, definition))
    if errors:
        raise ValidationError(errors)
    release = Release(
        project=project,
        title=(title or "").strip() or f"{project.name}: {ReleaseFormat(format).label}",
        purpose=(purpose or "").strip(),
        license=license,
        format=definition.format,
        filters=definition.filters.as_dict(),
        definition_hash=definition.definition_hash(project=project),
        salt=_pseudonym_salt(project, definition.definition_hash(project=project)),
        created_by=created_by,
    )
    release.full_clean()
    release.save()
    audit_record(
        action=AuditAction.RELEASE_CREATED,
        target=release,
        actor=created_by,
        after={
            "title": release.title,
            "format": release.format,
            "filters": release.filters,
            "license": release.license,
            "definition_hash": release.definition_hash,
        },
    )
    if enqueue:
        _enqueue(release)
    return release


# --- The project's pseudonym key ---


def release_key_get(*, project: Project) -> ReleaseKey:
    """The project's pseudonym key, created (once) with its first release."""
    key, _ = ReleaseKey.objects.get_or_create(project=project, defaults={"secret": secrets.token_hex(32)})
    return key


@transaction.atomic
def release_key_rotate(*, project: Project, actor: User | None) -> ReleaseKey:
    """Give the project a new pseudonym key: releases defined from now on name reviewers anew, unlinkably
    to the releases before; those keep their files and their pseudonyms."""
    key = release_key_get(project=project)
    key = ReleaseKey.objects.select_for_update().get(pk=key.pk)
    key.secret = secrets.token_hex(32)
    key.rotated_at = timezone.now()
    key.save(update_fields=["secret", "rotated_at"])
    # The secret itself never enters the trail: only that it changed.
    audit_record(
        action=AuditAction.SETTINGS_CHANGED,
        target=key,
        actor=actor,
        after={"pseudonym_key_rotated_at": key.rotated_at.isoformat()},
    )
    logger.info("Release pseudonym key of project %s rotated by %s", project.slug, actor or "the command line")
    return key


def _pseudonym_salt(project: Project, definition_hash: str) -> str:
    """The salt of a release's pseudonyms: the same for one definition until the project's key is rotated,
    so rebuilding a definition on unchanged data gives the same bytes."""
    secret = release_key_get(project=project).secret
    return hmac.new(secret.encode("ascii"), definition_hash.encode("ascii"), hashlib.sha256).hexdigest()


def _emptiness(project: Project, definition: ReleaseDefinition) -> dict[str, str]:
    """The refusal of a definition that gives no row now, keyed `filters`; none for one that gives rows.

    An empty release would still become an immutable, numbered release; refusing it here says why instead.
    """
    read = {"project": project, "format": definition.format, "filters": definition.filters}
    if release_row_count(**read).rows:
        return {}
    return {"filters": f"This release would hold no row: {release_empty_hint(**read)}."}


def _enqueue(release: Release) -> None:
    from curation.jobs import release_build_task  # Celery loads where a job is queued, not with the URLs

    releases_recover_stale()
    transaction.on_commit(partial(release_build_task.delay, release.pk))


@transaction.atomic
def release_retry(*, release_id: int, actor: User | None, enqueue: bool = True) -> Release:
    """Queue a failed release, or a running one whose worker stopped (its lease expired), again with its own
    definition and salt (same pseudonyms). A person asking starts the count of automatic restarts anew.

    Raises ReleaseNotRetryable for a release that succeeded (immutable), is queued, or is held by a live build.
    """
    release = Release.objects.select_for_update().get(pk=release_id)
    stopped = lease_expired(release)
    if not (release.status == ReleaseStatus.FAILED or stopped):
        raise ReleaseNotRetryable(
            f"Release {release.pk} is {release.get_status_display().lower()}: "
            "only failed releases and builds whose worker stopped can be retried."
        )
    release.restarts = 0
    release.save(update_fields=["restarts"])
    if stopped:
        release_interruption_record(release=release, now=timezone.now(), then="queued again")
    release_requeue(release, enqueue=enqueue)
    logger.info("Release %s queued again by %s", release.pk, actor or "the command line")
    return release
