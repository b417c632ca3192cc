"""Reads of PHI scanning: the texts an owner holds, what a scan run reads, the curators' queue, the
release gate and the figures a release card gives."""

from collections import Counter
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact

from curation.models import ModelResponse, Project, Prompt, Review, SeedTask
from curation.models.phi import PhiFinding, PhiFindingState, PhiScan, PhiScanRun
from curation.phi import SCANNER_VERSION, phi_recognizers
from curation.schemas.definitions import free_text_keys

TASK_FIELDS = ("instruction", "input", "reference_output")
PROMPT_FIELDS = ("instruction", "input")
ANSWER_PREFIX = "answers."
# The queue's keyset: findings in the order they were found.
QUEUE_ORDERING = ("id",)


def phi_owner_texts(owner: SeedTask | Prompt | ModelResponse | Review) -> list[tuple[str, str]]:
    """(field, text) of every non-empty text `owner` holds, in a fixed order.

    A review's texts are its corrected text and the answers to its form's free-text fields
    ("answers.<key>"): what the reviewer wrote in their own words. A choice's value is one of the
    options the form offers (the form's own text, checked on submit), so a review of choices alone
    has nothing to scan and its save does not load the scanner.
    """
    if isinstance(owner, SeedTask):
        pairs = [(name, getattr(owner, name)) for name in TASK_FIELDS]
    elif isinstance(owner, Prompt):
        pairs = [(name, getattr(owner, name)) for name in PROMPT_FIELDS]
    elif isinstance(owner, ModelResponse):
        pairs = [("text", owner.text)]
    elif isinstance(owner, Review):
        answers = owner.answers or {}
        pairs = [("corrected_text", owner.corrected_text)]
        written = free_text_keys(owner.schema.definition)
        pairs += [
            (f"{ANSWER_PREFIX}{key}", value)
            for key, value in sorted(answers.items())
            if key in written and isinstance(value, str)
        ]
    else:
        raise TypeError(f"{type(owner).__name__} has no texts the PHI scanner reads")
    return [(name, text) for name, text in pairs if text and text.strip()]


def phi_field_text(owner: SeedTask | Prompt | ModelResponse | Review, field: str) -> str:
    """The current text of one of `owner`'s fields, as phi_owner_texts names it ("" if empty)."""
    if isinstance(owner, Review) and field.startswith(ANSWER_PREFIX):
        value = (owner.answers or {}).get(field.removeprefix(ANSWER_PREFIX), "")
        return value if isinstance(value, str) else ""
    return getattr(owner, field) or ""


def _scanned_as_now(owner_field: str, hash_ref: str = "content_hash", outer: str = "pk") -> Exists:
    return Exists(PhiScan.objects.filter(**{owner_field: OuterRef(outer)}, content_hash=OuterRef(hash_ref)))


def phi_unscanned_tasks(*, project: Project) -> QuerySet[SeedTask]:
    return SeedTask.objects.filter(project=project).exclude(_scanned_as_now("seed_task"))


def phi_unscanned_prompts(*, project: Project) -> QuerySet[Prompt]:
    return Prompt.objects.filter(project=project).exclude(_scanned_as_now("prompt"))


def phi_unscanned_responses(*, project: Project) -> QuerySet[ModelResponse]:
    return (
        ModelResponse.objects.filter(Q(seed_task__project=project) | Q(prompt__project=project))
        .exclude(_scanned_as_now("response"))
        .select_related("seed_task", "prompt")
    )


def phi_unscanned_reviews(*, project: Project) -> QuerySet[Review]:
    return Review.objects.filter(project=project, is_current=True, phi_scan__isnull=True).select_related("schema")


def phi_scan_run_querysets(*, run: PhiScanRun) -> list[QuerySet]:
    """What a scan run reads: every text its import wrote, or else every unscanned text of the project."""
    if run.import_job_id:
        return [
            SeedTask.objects.filter(import_job_id=run.import_job_id),
            Prompt.objects.filter(import_job_id=run.import_job_id),
            ModelResponse.objects.filter(import_job_id=run.import_job_id).select_related("seed_task", "prompt"),
        ]
    project = run.project
    return [
        phi_unscanned_tasks(project=project),
        phi_unscanned_prompts(project=project),
        phi_unscanned_responses(project=project),
        phi_unscanned_reviews(project=project),
    ]


def phi_release_gate(item_field: str, outer: str = "pk") -> list[Exists]:
    """What an item must pass to be released, as far as PHI goes, as conditions to AND on the outer
    query's seed task (`item_field` "seed_task") or model response ("response") at `outer` ("pk", or
    "response_a_id"). It is left out when:

    - its texts are not scanned as they are now (no scan, or the content hash changed since);
    - an open finding is in its texts or its current reviews';
    - a current review of it is not scanned;
    - for a response to a test prompt: the prompt is unscanned, or has an open finding.

    Each condition is one EXISTS or NOT EXISTS, to be passed to `.filter(*conditions)`: at the top
    of a WHERE clause PostgreSQL turns them into (anti-)joins from the rows the other filters chose,
    so the gate costs in proportion to the items released; inside an OR (or a NOT of an OR) it could
    only test them row by row or hash every review and scan of the database first.
    """
    related = "" if outer == "pk" else outer.removesuffix("_id") + "__"
    item = "item_task" if item_field == "seed_task" else "item_response"
    unscanned_reviews = Review.objects.filter(**{item_field: OuterRef(outer)}, is_current=True).exclude(
        Exists(PhiScan.objects.filter(review_id=OuterRef("pk")))
    )
    # The same test as _scanned_as_now, with the hashes compared inside COALESCE (they are never NULL):
    # as a plain equality PostgreSQL takes it for a second join condition independent of the owner's,
    # multiplies their selectivities, expects one item where there are thousands, and then picks
    # nested loops that read a whole table (the flags, the findings) once per item.
    scanned = PhiScan.objects.filter(**{item_field: OuterRef(outer)}).filter(
        Coalesce(Exact(F("content_hash"), OuterRef(f"{related}content_hash")), Value(False))
    )
    gate = [
        Exists(scanned),
        ~Exists(PhiFinding.objects.filter(**{item: OuterRef(outer)}, state=PhiFindingState.OPEN)),
        ~Exists(unscanned_reviews),
    ]
    if item_field == "response":
        gate += phi_prompt_gate(f"{related}prompt_id")
    return gate


def phi_prompt_gate(outer: str) -> list[Exists]:
    """The PHI gate of the test prompt at `outer` (a path to its id): scanned as it is now, with no
    open finding. A response's gate includes it; rubric exports apply it to each rubric's prompt."""
    prompt = OuterRef(outer)
    unscanned_prompt = Prompt.objects.filter(pk=prompt).exclude(_scanned_as_now("prompt"))
    return [
        ~Exists(unscanned_prompt),
        ~Exists(PhiFinding.objects.filter(prompt_id=prompt, state=PhiFindingState.OPEN)),
    ]


def phi_queue(*, project: Project) -> QuerySet[PhiFinding]:
    """A project's open findings with their texts' owners, in QUEUE_ORDERING."""
    return (
        PhiFinding.objects.filter(project=project, state=PhiFindingState.OPEN)
        .select_related("seed_task", "prompt", "response", "review__reviewer")
        .order_by(*QUEUE_ORDERING)
    )


def phi_queue_texts(findings: list[PhiFinding]) -> list[dict[str, Any]]:
    """A page of findings grouped by the text they are in (owner and field), in the page's order."""
    groups: dict[tuple[str, int, str], dict[str, Any]] = {}
    for finding in findings:
        owner = finding.owner
        key = (owner._meta.model_name, owner.pk, finding.field)
        group = groups.setdefault(
            key,
            {"owner": owner, "kind": owner._meta.model_name, "field": finding.field, "findings": []},
        )
        group["text"] = phi_field_text(owner, finding.field)
        group["findings"].append(finding)
    return list(groups.values())


def phi_runs_of(*, project: Project, limit: int = 10) -> list[PhiScanRun]:
    return list(PhiScanRun.objects.filter(project=project).select_related("import_job")[:limit])


def phi_counts(*, project: Project) -> dict[str, int]:
    """Open findings and unscanned texts of the project, for the queue page's heading."""
    return {
        "open": PhiFinding.objects.filter(project=project, state=PhiFindingState.OPEN).count(),
        "unscanned": phi_unscanned_tasks(project=project).count()
        + phi_unscanned_prompts(project=project).count()
        + phi_unscanned_responses(project=project).count()
        + phi_unscanned_reviews(project=project).count(),
    }


def phi_release_report(*, project: Project, task_ids: QuerySet) -> dict[str, Any]:
    """What a release's card and manifest say about the scan: the scanner, the project's texts
    scanned and findings by kind and decision, and the redactions in the release's seed tasks
    (`task_ids`) and their reviews and responses, by item."""
    findings = PhiFinding.objects.filter(project=project)
    by_kind_state = findings.order_by().values("kind", "state").annotate(n=Count("id"))
    kinds: dict[str, Counter] = {}
    for row in by_kind_state:
        kinds.setdefault(row["kind"], Counter())[row["state"]] += row["n"]
    versions = dict(
        PhiScan.objects.filter(project=project).order_by().values_list("scanner_version").annotate(n=Count("id"))
    )
    redactions = (
        findings.filter(state=PhiFindingState.REDACTED)
        .filter(Q(item_task_id__in=task_ids) | Q(item_response__seed_task_id__in=task_ids) | Q(prompt__isnull=False))
        .select_related("decided_by")
        .order_by("item_task_id", "item_response_id", "prompt_id", "id")
    )
    return {
        "scanner_version": SCANNER_VERSION,
        "recognizers": phi_recognizers(),
        "texts_scanned": sum(versions.values()),
        "scanned_by_version": dict(sorted(versions.items())),
        "findings_by_kind": {kind: dict(counts) for kind, counts in sorted(kinds.items())},
        "redactions": [_redaction_row(finding) for finding in redactions.iterator(chunk_size=500)],
    }


def _redaction_row(finding: PhiFinding) -> dict[str, Any]:
    if finding.item_task_id:
        item = {"seed_task": finding.item_task_id}
    elif finding.item_response_id:
        item = {"response": finding.item_response_id}
    else:
        item = {"prompt": finding.prompt_id}
    where = "review" if finding.review_id else "text"
    return {
        **item,
        "in": where,
        "field": finding.field,
        "revision": finding.revision,
        "kind": finding.kind,
        "placeholder": f"[{finding.kind}]",
        "redacted_at": finding.decided_at.isoformat() if finding.decided_at else None,
    }
