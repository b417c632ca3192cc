"""Dynamic overlap: when a project asks for it, an item whose first k reviewers disagree goes to one
more reviewer, as each review comes in (`overlap_after_review`) or for every item already in dispute
when a curator turns it on (`overlap_sweep`, on the worker). The setting itself is
curation.services.adjudication.adjudication_settings_update.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Role, User
from curation.models import (
    Assignment,
    AssignmentStatus,
    DisagreementRule,
    ModelResponse,
    Project,
    Review,
    SeedTask,
)
from curation.selectors.adjudication import (
    adjudication_settings_of,
    disagreement_scan,
    fields_in_dispute,
)
from curation.selectors.assignments import pending_counts_of
from curation.services.adjudication import item_lock
from curation.services.assignments import assignment_counts_add


def _normalise(text: str) -> str:
    return " ".join((text or "").casefold().split())


def _item_topics(*, seed_task: SeedTask | None, response: ModelResponse | None) -> set[str]:
    task = seed_task or (response.seed_task if response is not None else None)
    if task is None:
        return set()
    names = {_normalise(task.topic_raw)}
    if task.topic_id:
        names.add(_normalise(task.topic.name))
    return names - {""}


def _extra_reviewer(
    *, project: Project, seed_task: SeedTask | None, response: ModelResponse | None, barred: set[int]
) -> User | None:
    """A clinician member not in `barred` who has never edited the response's seed task, preferring one
    whose specialty matches the task's topic, then the least loaded."""
    if response is not None and response.seed_task_id:
        barred = barred | set(
            SeedTask.history.filter(id=response.seed_task_id, history_type="~", history_user__isnull=False)
            .values_list("history_user_id", flat=True)
            .distinct()
        )
    candidates = list(
        User.objects.filter(memberships__project=project, role=Role.CLINICIAN, is_active=True).exclude(pk__in=barred)
    )
    if not candidates:
        return None
    load = pending_counts_of(project=project, reviewer_ids=[u.pk for u in candidates])
    topics = _item_topics(seed_task=seed_task, response=response)
    return min(candidates, key=lambda u: (_normalise(u.specialty) not in topics, load.get(u.pk, 0), u.pk))


@transaction.atomic
def overlap_extend(
    *, project: Project, seed_task: SeedTask | None = None, response: ModelResponse | None = None
) -> Assignment | None:
    """When the project asks for it and the item's first k reviewers disagree, give it to one more reviewer.

    The extra reviewer is a clinician member who has never had the item (nor, for a response, edited
    its seed task), preferring one whose specialty matches the task's topic, then the least loaded.
    Idempotent: an item that already has more than k reviewers, or someone still to review it, is left
    alone. Holds the item's row lock, as every path that adds an assignment does (see services.assignments).
    """
    rules = adjudication_settings_of(project=project)
    if not rules.dynamic_overlap or rules.rule == DisagreementRule.SAFETY:
        return None
    if (seed_task is None) == (response is None):
        raise ValidationError("Dynamic overlap is for exactly one seed task or one model response.")
    item_lock(seed_task=seed_task, response=response)
    k = project.reviewers_per_item
    schema = project.seed_schema if seed_task is not None else project.response_schema
    reviews = list(Review.objects.filter(seed_task=seed_task, response=response, schema=schema, is_current=True))
    reviewed = {r.reviewer_id for r in reviews}
    if len(reviewed) < k:
        return None
    assignments = list(Assignment.objects.filter(seed_task=seed_task, response=response))
    if any(a.status == AssignmentStatus.PENDING for a in assignments):
        return None
    active = reviewed | {a.reviewer_id for a in assignments if a.status == AssignmentStatus.DONE}
    if len(active) > k or not fields_in_dispute(schema=schema, answers=[r.answers for r in reviews], rules=rules):
        return None
    barred = reviewed | {a.reviewer_id for a in assignments}
    chosen = _extra_reviewer(project=project, seed_task=seed_task, response=response, barred=barred)
    if chosen is None:
        return None
    extra = Assignment.objects.create(project=project, reviewer=chosen, seed_task=seed_task, response=response)
    assignment_counts_add(project_id=project.pk, deltas={chosen.pk: {AssignmentStatus.PENDING: 1}})
    return extra


def overlap_sweep(*, project: Project) -> list[Assignment]:
    """Give every item whose first k reviewers already disagree its extra reviewer, e.g. when a project
    turns dynamic overlap on after reviews came in. Each item is handled (and locked) on its own."""
    # Ids and values only, as the disagreement queue's worker reads them: the items are loaded once,
    # not every review with its reviewer and every gold label of a large project.
    found = sorted(
        (d for d in disagreement_scan(project=project) if d.fields and not d.settled),
        key=lambda d: d.sort_key,
        reverse=True,
    )
    tasks = SeedTask.objects.in_bulk({d.seed_task_id for d in found if d.seed_task_id})
    responses = ModelResponse.objects.select_related("seed_task", "prompt").in_bulk(
        {d.response_id for d in found if d.response_id}
    )
    made = []
    for dispute in found:
        extra = overlap_extend(
            project=project, seed_task=tasks.get(dispute.seed_task_id), response=responses.get(dispute.response_id)
        )
        if extra is not None:
            made.append(extra)
    return made


def overlap_after_review(*, review: Review) -> Assignment | None:
    """The hook review submission calls: cheap when the project has dynamic overlap off."""
    rules = adjudication_settings_of(project=review.project)
    if not rules.dynamic_overlap:
        return None
    return overlap_extend(project=review.project, seed_task=review.seed_task, response=review.response)
