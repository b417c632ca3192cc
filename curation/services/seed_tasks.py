from collections import Counter
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit.services import AuditAction, audit_record, texts_digested
from curation.models import (
    AcceptedTaskEdits,
    Project,
    SeedTask,
    SeedTaskCount,
    TaskEditors,
    TaskSource,
    TaskStatus,
    VocabularyKind,
)
from curation.selectors.seed_tasks import seed_task_editable_by
from curation.services.database import counter_add, counters_rebuild
from curation.services.phi import phi_item_scan
from curation.services.seed_task_search import seed_task_search_upsert
from curation.services.vocabulary import (
    Use,
    vocabulary_resolve,
    vocabulary_uses_add,
    vocabulary_uses_of,
    vocabulary_uses_recount,
)
from curation.text.hashing import content_hash

EDITABLE_FIELDS = (
    "instruction",
    "input",
    "reference_output",
    "topic_raw",
    "view_raw",
    "task_type_raw",
    "difficulty",
)
# The task's own words, which the audit trail names by digest (topic, view, type and difficulty are labels).
TEXT_FIELDS = ("instruction", "input", "reference_output")
_RAW_TO_TERM = {
    "topic_raw": ("topic", VocabularyKind.TOPIC),
    "view_raw": ("view", VocabularyKind.VIEW),
    "task_type_raw": ("task_type", VocabularyKind.TASK_TYPE),
}
NO_INPUT = "<noinput>"
# simple-history keeps the change reason (the edit's rationale) in a varchar(100).
RATIONALE_MAX_LENGTH = 100


class EditConflict(Exception):
    """Someone saved the task after the editor loaded it. `current` is the task as it is now."""

    def __init__(self, current: SeedTask):
        super().__init__(f"Task {current.pk} changed to version {current.version} meanwhile")
        self.current = current


def seed_tasks_counted(*, project_id: int, tasks: int, uses: Mapping[Use, int]) -> None:
    """Count `tasks` new seed tasks of the project, carrying `uses` (vocabulary_uses_of), in the
    project's counts (SeedTaskCount, VocabularyUse). Call in the transaction that wrote them, once per
    batch (an import calls it for each batch it inserts), not once per task."""
    counter_add(SeedTaskCount, {"project_id": project_id}, {"tasks": tasks})
    vocabulary_uses_add(uses=uses)


@transaction.atomic
def seed_tasks_recount(*, project: Project) -> int:
    """Rebuild the project's task count and its counts per spelling and term from the tasks themselves
    (`manage.py recount`); returns how many counts were wrong."""
    wrong = counters_rebuild(
        SeedTaskCount,
        scope={"project_id": project.pk},
        key=(),
        count=lambda: {(): {"tasks": SeedTask.objects.filter(project=project).count()}},
    )
    return wrong + vocabulary_uses_recount(project=project)


def _link_terms(task: SeedTask, raw_fields: list[str]) -> list[str]:
    linked = []
    for raw_field in raw_fields:
        term_field, kind = _RAW_TO_TERM[raw_field]
        setattr(task, term_field, vocabulary_resolve(kind=kind, raw=getattr(task, raw_field)))
        linked.append(term_field)
    return linked


def _rehash(task: SeedTask) -> None:
    task.content_hash = content_hash(task.instruction, task.input, task.reference_output)


def _require_editable(task: SeedTask, editor: User) -> None:
    """Raise PermissionDenied unless the project lets `editor` edit the task (its `task_editors` setting)."""
    if not seed_task_editable_by(task=task, user=editor):
        if task.project.task_editors == TaskEditors.ASSIGNED:
            raise PermissionDenied("In this project only curators and the reviewers assigned to a task may edit it.")
        raise PermissionDenied("Only members of the project and curators may edit its tasks.")


def _reopen_if_accepted(task: SeedTask, *, redaction: bool = False) -> list[str]:
    """An accepted task is in the dataset as the version a curator accepted, so an edit is a new, unreviewed
    revision: it goes back to review (the fields that changed), or is refused if the project says so.
    A redaction of PHI is never refused: the finding would otherwise stay open, or be cleared though it is PHI."""
    if task.status != TaskStatus.ACCEPTED:
        return []
    if task.project.accepted_task_edits == AcceptedTaskEdits.REFUSE and not redaction:
        raise ValidationError(
            {"__all__": f"Task {task.pk} is accepted and this project does not allow editing accepted tasks."}
        )
    task.status = TaskStatus.IN_REVIEW
    return ["status"]


@transaction.atomic
def seed_task_create(
    *,
    project: Project,
    instruction: str,
    input: str = "",
    reference_output: str = "",
    topic: str = "",
    view: str = "",
    task_type: str = "",
    difficulty: int | None = None,
    source: str = TaskSource.CLINICIAN,
    status: str = TaskStatus.DRAFT,
    external_id: str = "",
    origin_file: str = "",
    origin_line: int | None = None,
    created_by: User | None = None,
) -> SeedTask:
    task = SeedTask(
        project=project,
        instruction=instruction,
        input="" if input.strip() == NO_INPUT else input,
        reference_output=reference_output,
        topic_raw=topic,
        view_raw=view,
        task_type_raw=task_type,
        difficulty=difficulty,
        source=source,
        status=status,
        external_id=external_id,
        origin_file=origin_file,
        origin_line=origin_line,
        created_by=created_by,
        accepted_version=1 if status == TaskStatus.ACCEPTED else None,
    )
    _link_terms(task, list(_RAW_TO_TERM))
    _rehash(task)
    task.full_clean()
    task._history_user = created_by
    task._change_reason = "created"
    task.save()
    seed_tasks_counted(project_id=project.pk, tasks=1, uses=vocabulary_uses_of([task]))
    seed_task_search_upsert(task_id=task.pk)  # found by search as soon as it commits
    phi_item_scan(owner=task, new=True)  # a clinician's new task is scanned as it is saved
    return task


@transaction.atomic
def seed_task_edit(
    *,
    task_id: int,
    editor: User,
    expected_version: int,
    changes: dict[str, Any],
    rationale: str,
    redaction: bool = False,
) -> SeedTask:
    """Apply an edit made on `expected_version` of the task; every edit becomes a revision with its rationale.

    Raises PermissionDenied when the project does not let `editor` edit it (`task_editors`), EditConflict
    when the task has moved on since the editor loaded it (the caller shows both versions and nothing is
    overwritten), and ValidationError for a missing rationale, a bad value, or an accepted task in a
    project that refuses such edits. An edit of an accepted task otherwise returns it to review. A `redaction`
    (curation.services.phi_findings replacing PHI by its kind) returns an accepted task to review in every project.
    """
    rationale = rationale.strip()
    if not rationale:
        raise ValidationError({"rationale": "Say briefly why you made this edit."})
    if len(rationale) > RATIONALE_MAX_LENGTH:
        raise ValidationError(
            {"rationale": f"Keep it to {RATIONALE_MAX_LENGTH} characters (this one has {len(rationale)})."}
        )
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({field: "cannot be edited" for field in sorted(unknown)})
    task = SeedTask.objects.select_for_update().get(pk=task_id)
    _require_editable(task, editor)
    if task.version != expected_version:
        raise EditConflict(task)
    changed = [field for field, value in changes.items() if getattr(task, field) != value]
    if not changed:
        return task
    reopened = _reopen_if_accepted(task, redaction=redaction)
    before = {field: getattr(task, field) for field in changed} | ({"status": TaskStatus.ACCEPTED} if reopened else {})
    uses_before = vocabulary_uses_of([task])
    for field in changed:
        setattr(task, field, changes[field])
    if task.input.strip() == NO_INPUT:
        task.input = ""
    linked = _link_terms(task, [f for f in changed if f in _RAW_TO_TERM])
    _rehash(task)
    task.version += 1
    task.updated_at = timezone.now()
    task.full_clean()
    task._history_user = editor
    task._change_reason = rationale
    task.save(update_fields=[*changed, *linked, *reopened, "content_hash", "version", "updated_at"])
    if any(field in TEXT_FIELDS for field in changed):
        seed_task_search_upsert(task_id=task.pk)  # found by its new words, and not its old ones, once this commits
    uses = Counter(vocabulary_uses_of([task]))
    uses.subtract(uses_before)
    vocabulary_uses_add(uses=uses)  # a changed topic, view or type moves the task from one use to another
    after = {**{f: getattr(task, f) for f in [*changed, *reopened]}, "rationale": rationale}
    # The trail is append-only and kept for years: it must not keep PHI an edit or a later redaction removes, so
    # the task's texts are named by their digest; the texts themselves stay in the task's history.
    before = texts_digested(before, TEXT_FIELDS)
    after = texts_digested(after, TEXT_FIELDS)
    audit_record(action=AuditAction.TASK_EDITED, target=task, actor=editor, before=before, after=after)
    # An editor does not also rate the responses to what they edited: their pending ratings go back.
    from curation.services.assignments import assignments_skip_responses_of_edited_task

    assignments_skip_responses_of_edited_task(reviewer=editor, task=task)
    phi_item_scan(owner=task)  # the new revision is scanned before the edit commits
    return task


@transaction.atomic
def seed_task_texts_saved(*, task: SeedTask, new: bool = False) -> None:
    """Bring what a task's texts decide in step with the texts as saved, for a write that saves the task's
    fields itself rather than through seed_task_create or seed_task_edit (which do the same in their own save):
    the Django admin. That is its content_hash, which the catch-ups (manage.py phi_scan, search_index) compare
    with the hash they last built from, its search document and its PHI scan. Call after the save, inside
    its transaction; `new` when the save created the task (as for phi_item_scan)."""
    stored = task.content_hash
    _rehash(task)
    if task.content_hash != stored:
        # The hash is not in the task's history (HistoricalRecords excludes it): no revision for it alone.
        SeedTask.objects.filter(pk=task.pk).update(content_hash=task.content_hash)
    seed_task_search_upsert(task_id=task.pk)  # found by its new words, and not its old ones, once this commits
    phi_item_scan(owner=task, new=new)  # scanned before the save commits, as a clinician's edit is


@transaction.atomic
def seed_task_set_status(*, task_id: int, actor: User, status: str, rationale: str) -> SeedTask:
    if status not in TaskStatus.values:
        raise ValidationError({"status": f"must be one of {', '.join(TaskStatus.values)}"})
    task = SeedTask.objects.select_for_update().get(pk=task_id)
    if task.status == status:
        return task
    before = {"status": task.status}
    task.status = status
    task.version += 1
    # Acceptance is a decision about this revision: releases take the task only while it is still this version.
    if status == TaskStatus.ACCEPTED:
        task.accepted_version = task.version
    task.updated_at = timezone.now()
    task._history_user = actor
    task._change_reason = rationale.strip() or f"status set to {task.get_status_display().lower()}"
    task.save(update_fields=["status", "version", "accepted_version", "updated_at"])
    audit_record(
        action=AuditAction.TASK_STATUS_SET,
        target=task,
        actor=actor,
        before=before,
        after={"status": status, "rationale": rationale.strip()},
    )
    return task
