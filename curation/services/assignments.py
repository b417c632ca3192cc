"""Who reviews what: curators assign items to clinicians, and a reviewer with nothing left claims the next item.

Invariants kept here, whatever the path:
- an item never has more than k active (pending or done) assignments, k = Project.reviewers_per_item
  or the k a curator chose for the batch;
- a reviewer is never assigned the same item twice (also a database constraint);
- whoever edited a seed task does not claim it for review, nor rate the model responses to it.

Concurrency: every path that adds an assignment to an item first holds SELECT ... FOR UPDATE on the
item's row (the SeedTask or the ModelResponse) and counts the item's assignments in a statement that
starts after the lock was granted. Under READ COMMITTED that statement sees every assignment committed
by an earlier lock holder, so two claimers can never both see "one place left".
"""

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import User
from curation.models import (
    Assignment,
    AssignmentCount,
    AssignmentStatus,
    ModelResponse,
    Project,
    Prompt,
    SeedTask,
    TaskStatus,
)
from curation.selectors.assignments import assignable_item_ids, pending_counts_of, project_response_model_names
from curation.services.database import counters_add, counters_rebuild

ACTIVE = (AssignmentStatus.PENDING, AssignmentStatus.DONE)
CLAIM_ATTEMPTS = 200


@dataclass
class AssignmentResult:
    created: int = 0
    items: int = 0
    short: list[str] = field(default_factory=list)  # items that could not reach k, e.g. "task 12 (1 of 2)"


def assignment_counts_add(*, project_id: int, deltas: Mapping[int, Mapping[str, int]]) -> None:
    """Add to reviewers' counts of assignments in the project (AssignmentCount), given as
    {reviewer id: {status: +n or -n}}: +1 pending for a new assignment, -1 pending +1 done for a submit.

    Call in the transaction that wrote the assignments, after writing them. One statement, whatever the
    number of reviewers (counters_add).
    """
    counters_add(
        AssignmentCount,
        [({"project_id": project_id, "reviewer_id": reviewer_id}, changes) for reviewer_id, changes in deltas.items()],
    )


def assignment_status_counted(*, assignment: Assignment, old: str) -> None:
    """Count one assignment that went from status `old` to its status now (same transaction)."""
    if old != assignment.status:
        assignment_counts_add(
            project_id=assignment.project_id, deltas={assignment.reviewer_id: {old: -1, assignment.status: 1}}
        )


@transaction.atomic
def assignment_counts_recount(*, project: Project) -> int:
    """Rebuild the reviewers' counts of assignments in the project from the assignments themselves
    (`manage.py recount`); returns how many reviewers' counts were wrong."""

    def count() -> dict[tuple, dict[str, int]]:
        true: dict[tuple, dict[str, int]] = {}
        rows = (
            Assignment.objects.filter(project=project)
            .order_by()
            .values_list("reviewer_id", "status")
            .annotate(n=Count("pk"))
        )
        for reviewer_id, status, n in rows:
            true.setdefault((reviewer_id,), dict.fromkeys(AssignmentStatus.values, 0))[status] = n
        return true

    return counters_rebuild(AssignmentCount, scope={"project_id": project.pk}, key=("reviewer_id",), count=count)


def seed_task_editor_ids(*, task_ids: Iterable[int]) -> dict[int, set[int]]:
    """For each seed task, the people who edited it (from its history); they do not rate its responses."""
    editors: dict[int, set[int]] = {}
    rows = (
        SeedTask.history.filter(id__in=list(task_ids), history_type="~", history_user__isnull=False)
        .values_list("id", "history_user_id")
        .distinct()
    )
    for task_id, user_id in rows:
        editors.setdefault(task_id, set()).add(user_id)
    return editors


def reviewer_edited_task(*, reviewer: User, task_id: int) -> bool:
    return SeedTask.history.filter(id=task_id, history_type="~", history_user=reviewer).exists()


def _active_counts(*, item_field: str, ids: list[int]) -> dict[int, set[int]]:
    """Reviewers holding an active assignment, per item. Call while holding the items' row locks."""
    holders: dict[int, set[int]] = {i: set() for i in ids}
    rows = Assignment.objects.filter(**{f"{item_field}__in": ids}, status__in=ACTIVE).values_list(
        item_field, "reviewer_id"
    )
    for item_id, reviewer_id in rows:
        holders[item_id].add(reviewer_id)
    return holders


def _reviewers_on(*, item_field: str, ids: list[int]) -> dict[int, set[int]]:
    """Everyone who ever had the item, skipped included: nobody gets an item twice."""
    seen: dict[int, set[int]] = {i: set() for i in ids}
    for item_id, reviewer_id in Assignment.objects.filter(**{f"{item_field}__in": ids}).values_list(
        item_field, "reviewer_id"
    ):
        seen[item_id].add(reviewer_id)
    return seen


@transaction.atomic
def assignments_create(
    *,
    project: Project,
    assigned_by: User | None,
    reviewers: list[User],
    k: int,
    seed_task_ids: Iterable[int] = (),
    response_ids: Iterable[int] = (),
) -> AssignmentResult:
    """Give each item up to k reviewers from `reviewers`, least loaded first.

    Load is a reviewer's pending assignments in the project, updated as this batch assigns. Items
    that already have k active reviewers are left alone; items that cannot reach k (too few eligible
    reviewers) are reported in `short`, not silently dropped.
    """
    project.check_open(doing="new assignments")
    _check_reviewers(project=project, reviewers=reviewers, k=k)
    tasks, responses = _items_locked(project=project, task_ids=seed_task_ids, response_ids=response_ids)
    load = dict.fromkeys((r.pk for r in reviewers), 0)
    load.update(pending_counts_of(project=project, reviewer_ids=list(load)))
    editors = seed_task_editor_ids(task_ids={r.seed_task_id for r in responses if r.seed_task_id})
    result = AssignmentResult()
    new: list[Assignment] = []
    for item_field, items, label in (("seed_task", tasks, "task"), ("response", responses, "response")):
        ids = [i.pk for i in items]
        active = _active_counts(item_field=item_field, ids=ids)
        seen = _reviewers_on(item_field=item_field, ids=ids)
        for item in items:
            result.items += 1
            needed = k - len(active[item.pk])
            if needed <= 0:
                continue
            barred = seen[item.pk] | (editors.get(item.seed_task_id, set()) if item_field == "response" else set())
            chosen = _least_loaded(load, barred=barred, n=needed)
            new += [
                Assignment(project=project, reviewer_id=reviewer_id, assigned_by=assigned_by, **{item_field: item})
                for reviewer_id in chosen
            ]
            if len(chosen) < needed:
                result.short.append(f"{label} {item.pk} ({len(active[item.pk]) + len(chosen)} of {k})")
    Assignment.objects.bulk_create(new)
    made = Counter(a.reviewer_id for a in new)
    assignment_counts_add(project_id=project.pk, deltas={rid: {AssignmentStatus.PENDING: n} for rid, n in made.items()})
    result.created = len(new)
    return result


MAX_BATCH = 5000
ITEM_KINDS = ("seed_task", "response")


def assignments_batch_create(
    *,
    project: Project,
    assigned_by: User | None,
    reviewer_emails: list[str],
    k: int,
    kind: str = "seed_task",
    item_ids: list[int] | None = None,
    status: str = "",
    difficulty: int | None = None,
    topic: str = "",
    model_name: str = "",
    limit: int = 100,
) -> AssignmentResult:
    """A batch as a script sends it (API, CLI): reviewers by email, items by id or else by filter (at most
    `limit`, lowest ids first), then assignments_create's rules, exactly as on the assign page."""
    if kind not in ITEM_KINDS:
        raise ValidationError({"kind": f"Items are 'seed_task' or 'response', not {kind!r}."})
    if not 1 <= limit <= MAX_BATCH:
        raise ValidationError({"limit": f"The limit is between 1 and {MAX_BATCH}, not {limit}."})
    if item_ids is not None and len(item_ids) > MAX_BATCH:
        raise ValidationError({"item_ids": f"At most {MAX_BATCH} items in one batch, not {len(item_ids)}."})
    wanted = {email.strip().lower() for email in reviewer_emails if email.strip()}
    reviewers = list(User.objects.filter(email__in=wanted, is_active=True))
    if missing := wanted - {r.email.lower() for r in reviewers}:
        raise ValidationError({"reviewers": f"No active account with the email: {', '.join(sorted(missing))}."})
    if model_name:
        _check_model_name(project=project, kind=kind, model_name=model_name)
    if item_ids is None:
        item_ids = assignable_item_ids(
            project=project,
            kind=kind,
            limit=limit,
            status=status,
            difficulty=difficulty,
            topic=topic,
            model_name=model_name,
        )
    return assignments_create(
        project=project,
        assigned_by=assigned_by,
        reviewers=reviewers,
        k=k,
        seed_task_ids=item_ids if kind == "seed_task" else (),
        response_ids=item_ids if kind == "response" else (),
    )


def _check_model_name(*, project: Project, kind: str, model_name: str) -> None:
    """A model name that chooses nothing is a mistake to say, not a batch of none."""
    if kind != "response":
        raise ValidationError({"model_name": "A model name chooses model responses: use it with kind 'response'."})
    names = project_response_model_names(project=project)
    if model_name not in names:
        known = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
        raise ValidationError(
            {"model_name": f"No responses of a model named {model_name!r} in this project (models: {known or 'none'})."}
        )


def _check_reviewers(*, project: Project, reviewers: list[User], k: int) -> None:
    if not 1 <= k <= 20:
        raise ValidationError({"k": "Reviewers per item must be between 1 and 20."})
    if not reviewers:
        raise ValidationError({"reviewers": "Choose at least one reviewer."})
    member_ids = set(project.memberships.values_list("user_id", flat=True))
    outsiders = [str(r) for r in reviewers if r.pk not in member_ids]
    if outsiders:
        raise ValidationError({"reviewers": f"Not members of this project: {', '.join(outsiders)}."})


def _items_locked(
    *, project: Project, task_ids: Iterable[int], response_ids: Iterable[int]
) -> tuple[list[SeedTask], list[ModelResponse]]:
    """The project's tasks and responses among the ids, locked; an id that is not one of them is an error."""
    task_ids, response_ids = sorted(set(task_ids)), sorted(set(response_ids))
    # Lock in id order so two concurrent batches cannot deadlock on each other's items.
    tasks = list(SeedTask.objects.select_for_update().filter(project=project, pk__in=task_ids).order_by("pk"))
    responses = list(
        ModelResponse.objects.select_for_update(of=("self",))
        .filter(Q(seed_task__project=project) | Q(prompt__project=project), pk__in=response_ids)
        .order_by("pk")
    )
    problems = {}
    if missing := set(task_ids) - {t.pk for t in tasks}:
        problems["seed_task_ids"] = f"No such seed tasks in this project: {sorted(missing)}."
    if missing := set(response_ids) - {r.pk for r in responses}:
        problems["response_ids"] = f"No such responses in this project: {sorted(missing)}."
    if problems:
        raise ValidationError(problems)
    return tasks, responses


def _least_loaded(load: dict[int, int], *, barred: set[int], n: int) -> list[int]:
    """Up to n reviewers not barred, least loaded first (ties by id), each counted as one more loaded."""
    chosen = sorted((rid for rid in load if rid not in barred), key=lambda rid: (load[rid], rid))[:n]
    for reviewer_id in chosen:
        load[reviewer_id] += 1
    return chosen


def _taken(item_field: str) -> Coalesce:
    # A scalar subquery, not Count() on the outer query: GROUP BY there would forbid FOR UPDATE.
    counts = (
        Assignment.objects.filter(status__in=ACTIVE, **{item_field: OuterRef("pk")})
        .order_by()
        .values(item_field)
        .annotate(n=Count("id"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


def _pool(*, project: Project, reviewer: User, k: int) -> Iterator[tuple[str, QuerySet]]:
    """Items open for claiming, in the order they are handed out: seed tasks in review, then responses.
    One kind at a time: most claims find a seed task, and building the responses' query for nothing cost
    a fifth of the claim."""
    mine = Assignment.objects.filter(reviewer=reviewer)
    tasks = (
        SeedTask.objects.filter(project=project, status=TaskStatus.IN_REVIEW)
        .exclude(Exists(mine.filter(seed_task=OuterRef("pk"))))
        # An edit (one that sent an accepted task back to review, say) is reviewed by someone other than its editor.
        .exclude(Exists(SeedTask.history.filter(id=OuterRef("pk"), history_type="~", history_user=reviewer)))
        .annotate(taken=_taken("seed_task"))
        .filter(taken__lt=k)
    )
    yield "seed_task", tasks
    edited = SeedTask.history.filter(id=OuterRef("seed_task_id"), history_type="~", history_user=reviewer)
    responses = (
        ModelResponse.objects.filter(
            Q(seed_task__in=SeedTask.objects.filter(project=project).values("pk"))
            | Q(prompt__in=Prompt.objects.filter(project=project).values("pk"))
        )
        .exclude(Exists(mine.filter(response=OuterRef("pk"))))
        .exclude(Exists(edited))
        .annotate(taken=_taken("response"))
        .filter(taken__lt=k)
    )
    yield "response", responses


def assignment_next(*, project: Project, reviewer: User) -> Assignment | None:
    """The reviewer's next item: their oldest pending assignment, or else a newly claimed open item.

    Claiming is safe when many reviewers ask at once: candidate items are locked with
    FOR UPDATE SKIP LOCKED (a reviewer never waits behind another's claim, they take the next item)
    and the item's active assignments are counted again after the lock, so no item passes k.
    """
    pending = assignment_pending_first(project=project, reviewer=reviewer)
    if pending is not None:
        return pending
    return assignment_claim(project=project, reviewer=reviewer)


def assignment_pending_first(*, project: Project, reviewer: User) -> Assignment | None:
    return (
        Assignment.objects.filter(project=project, reviewer=reviewer, status=AssignmentStatus.PENDING)
        .order_by("id")
        .first()
    )


def _lock_one(candidates: QuerySet, checked: set[int]) -> int | None:
    """Lock the first open candidate: one nobody else holds if there is one, else wait for the first."""
    open_items = candidates.exclude(pk__in=checked).order_by("pk")
    item_id = open_items.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True).first()
    if item_id is not None:
        return item_id
    # Every open item is being claimed right now: queue behind the first rather than report "nothing left".
    item_id = open_items.values_list("pk", flat=True).first()
    if item_id is not None:
        candidates.model.objects.select_for_update().filter(pk=item_id).values_list("pk", flat=True).first()
    return item_id


@transaction.atomic
def assignment_claim(*, project: Project, reviewer: User) -> Assignment | None:
    """Claim an open item for a project member (see assignment_next); None when nothing is open
    (an archived project has nothing open)."""
    if project.archived_at is not None or not project.memberships.filter(user=reviewer).exists():
        return None
    k = project.reviewers_per_item
    for item_field, pool in _pool(project=project, reviewer=reviewer, k=k):
        # Items are handed out in id order, by claims and by the assign page alike, so items below the
        # latest assignment's are mostly full: start the scan there and wrap around, which keeps a claim
        # cheap however many items are already done. (Started from the latest claim only, the first
        # claims after a curator had assigned 950,000 items scanned them all: 1.7 s each, 12 s under load.)
        latest = (
            Assignment.objects.filter(project=project, **{f"{item_field}__isnull": False})
            .order_by("-id")
            .values_list(f"{item_field}_id", flat=True)
            .first()
        ) or 0
        for candidates in (pool.filter(pk__gte=latest), pool.filter(pk__lt=latest)):
            claimed = _claim_from(candidates, item_field=item_field, project=project, reviewer=reviewer, k=k)
            if claimed is not None:
                return claimed
    return None


def _claim_from(
    candidates: QuerySet, *, item_field: str, project: Project, reviewer: User, k: int
) -> Assignment | None:
    """Precondition: inside assignment_claim's transaction."""
    checked: set[int] = set()
    for _ in range(CLAIM_ATTEMPTS):
        # A savepoint per attempt: rolling back to it releases the lock on an item found full.
        with transaction.atomic():
            item_id = _lock_one(candidates, checked)
            if item_id is None:
                return None
            # A fresh statement after the lock: it sees assignments committed by earlier lock holders.
            holders = set(
                Assignment.objects.filter(**{item_field: item_id}, status__in=ACTIVE).values_list(
                    "reviewer_id", flat=True
                )
            )
            if len(holders) < k and reviewer.pk not in holders:
                claimed = Assignment.objects.create(
                    project=project, reviewer=reviewer, assigned_by=reviewer, **{f"{item_field}_id": item_id}
                )
                assignment_counts_add(project_id=project.pk, deltas={reviewer.pk: {AssignmentStatus.PENDING: 1}})
                return claimed
            checked.add(item_id)
            transaction.set_rollback(True)
    return None


@transaction.atomic
def assignment_skip(*, assignment: Assignment) -> Assignment:
    """Hand an item back: it reopens for someone else, and this reviewer is never given it again."""
    assignment = Assignment.objects.select_for_update().get(pk=assignment.pk)
    if assignment.status != AssignmentStatus.PENDING:
        raise ValidationError("Only an item still to do can be skipped.")
    assignment.status = AssignmentStatus.SKIPPED
    assignment.save(update_fields=["status"])
    assignment_status_counted(assignment=assignment, old=AssignmentStatus.PENDING)
    return assignment


def assignments_skip_responses_of_edited_task(*, reviewer: User, task: SeedTask) -> int:
    """After someone edits a seed task, their pending ratings of its responses go back to the pool.
    Call in the edit's transaction."""
    skipped = Assignment.objects.filter(
        reviewer=reviewer, response__seed_task_id=task.pk, status=AssignmentStatus.PENDING
    ).update(status=AssignmentStatus.SKIPPED)
    # The responses to a task are rated in the task's project.
    assignments_released_counted(project_id=task.project_id, reviewer_id=reviewer.pk, released=skipped)
    return skipped


def assignments_released_counted(*, project_id: int, reviewer_id: int, released: int) -> None:
    """Count `released` pending assignments of the reviewer that were just set to skipped (same transaction)."""
    assignment_counts_add(
        project_id=project_id,
        deltas={reviewer_id: {AssignmentStatus.PENDING: -released, AssignmentStatus.SKIPPED: released}},
    )
