from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count

from curation.models import Project, SeedTask, VocabularyAlias, VocabularyKind, VocabularyTerm, VocabularyUse
from curation.services.database import counters_add, counters_rebuild
from curation.text.vocabulary import normalise_key

# A use: (project id, kind, term id or None, raw spelling).
Use = tuple[int, str, int | None, str]


def vocabulary_resolve(*, kind: str, raw: str) -> VocabularyTerm | None:
    """The canonical term a raw spelling stands for, or None when nobody has mapped it yet."""
    key = normalise_key(raw)
    if not key:
        return None
    term = VocabularyTerm.objects.filter(kind=kind, key=key).first()
    if term is not None:
        return term
    alias = VocabularyAlias.objects.select_related("term").filter(kind=kind, key=key).first()
    return alias.term if alias else None


def vocabulary_index() -> dict[tuple[str, str], int]:
    """(kind, normalised key) -> term id for every spelling, resolved as vocabulary_resolve does (a term's
    own key before an alias), in two queries: for resolving many raw values at once (imports)."""
    index = {
        (kind, key): term_id for kind, key, term_id in VocabularyAlias.objects.values_list("kind", "key", "term_id")
    }
    index.update(((kind, key), pk) for kind, key, pk in VocabularyTerm.objects.values_list("kind", "key", "pk"))
    return index


@transaction.atomic
def vocabulary_term_get_or_create(*, kind: str, name: str) -> VocabularyTerm:
    """The term `name` resolves to, creating it as a new canonical term if nothing matches."""
    if kind not in VocabularyKind.values:
        raise ValueError(f"unknown vocabulary kind {kind!r}")
    term = vocabulary_resolve(kind=kind, raw=name)
    if term is None:
        term = VocabularyTerm(kind=kind, name=name.strip(), key=normalise_key(name))
        term.full_clean()
        term.save()
    return term


@transaction.atomic
def vocabulary_alias_add(*, term: VocabularyTerm, raw: str) -> VocabularyAlias:
    alias = VocabularyAlias(kind=term.kind, term=term, raw=raw.strip(), key=normalise_key(raw))
    alias.full_clean()
    alias.save()
    return alias


_RAW_FIELDS = {
    VocabularyKind.TOPIC: "topic_raw",
    VocabularyKind.VIEW: "view_raw",
    VocabularyKind.TASK_TYPE: "task_type_raw",
}
_LINK_FIELDS = {VocabularyKind.TOPIC: "topic", VocabularyKind.VIEW: "view", VocabularyKind.TASK_TYPE: "task_type"}


def vocabulary_uses_of(tasks: Iterable[SeedTask | Mapping[str, Any]]) -> Counter[Use]:
    """How many of `tasks` (SeedTasks, or rows of columns as an import writes them) carry each use."""
    uses: Counter[Use] = Counter()
    for task in tasks:
        row = task if isinstance(task, Mapping) else task.__dict__
        for kind, raw_field in _RAW_FIELDS.items():
            uses[row["project_id"], kind, row[f"{_LINK_FIELDS[kind]}_id"], row[raw_field]] += 1
    return uses


def vocabulary_uses_add(*, uses: Mapping[Use, int]) -> None:
    """Add to the projects' counts of tasks per spelling and term (VocabularyUse): +n for tasks that now
    carry a use, -n for tasks that no longer do. Call in the transaction that wrote the tasks.

    Two statements however many uses: one for the spellings nobody mapped, one for those with a term,
    each held by its own unique constraint (a NULL term is distinct in a plain one).
    """
    rows = [
        ({"project_id": project_id, "kind": kind, "term_id": term_id, "raw": raw}, {"tasks": n})
        for (project_id, kind, term_id, raw), n in uses.items()
    ]
    unmapped = [row for row in rows if row[0]["term_id"] is None]
    counters_add(VocabularyUse, unmapped, unique=("project_id", "kind", "raw"), where='"term_id" IS NULL')
    mapped = [row for row in rows if row[0]["term_id"] is not None]
    counters_add(VocabularyUse, mapped, unique=("project_id", "term_id", "raw"), where='"term_id" IS NOT NULL')


def vocabulary_uses_recount(*, project: Project) -> int:
    """Rebuild the project's counts per spelling and term from its tasks (one GROUP BY per kind); returns
    how many were wrong. Precondition: inside a transaction (seed_tasks_recount)."""

    def count() -> dict[tuple, dict[str, int]]:
        true: dict[tuple, dict[str, int]] = {}
        for kind, raw_field in _RAW_FIELDS.items():
            rows = (
                SeedTask.objects.filter(project=project)
                .order_by()
                .values_list(f"{_LINK_FIELDS[kind]}_id", raw_field)
                .annotate(n=Count("pk"))
            )
            for term_id, raw, n in rows:
                true[kind, term_id, raw] = {"tasks": n}
        return true

    return counters_rebuild(
        VocabularyUse, scope={"project_id": project.pk}, key=("kind", "term_id", "raw"), count=count
    )


def _relinked(tasks, *, kind: str, term: VocabularyTerm) -> int:
    """Link `tasks` to `term`, moving their counts from the uses they had to the new one. Returns how
    many were relinked. The counts moved are those of the tasks themselves, grouped, not of the rows
    they had in VocabularyUse: a write never trusts a count it can read exactly."""
    raw_field, link_field = _RAW_FIELDS[kind], _LINK_FIELDS[kind]
    moved: Counter[Use] = Counter()
    for project_id, old_term_id, raw, n in (
        tasks.order_by().values_list("project_id", f"{link_field}_id", raw_field).annotate(n=Count("pk"))
    ):
        moved[project_id, kind, old_term_id, raw] -= n
        moved[project_id, kind, term.pk, raw] += n
    relinked = tasks.update(**{link_field: term})
    vocabulary_uses_add(uses=moved)
    return relinked


def _relink_spelling(*, kind: str, key: str, term: VocabularyTerm) -> int:
    """Point every task (in any project: terms are shared) whose raw value has `key` at `term`."""
    raw_field, link_field = _RAW_FIELDS[kind], _LINK_FIELDS[kind]
    # The spellings in use are read from the kept counts (a row per project and spelling), not by grouping
    # every task of every project.
    raws = VocabularyUse.objects.filter(kind=kind, tasks__gt=0).exclude(raw="").values_list("raw", flat=True)
    matching = sorted({raw for raw in raws.distinct() if normalise_key(raw) == key})
    tasks = SeedTask.objects.filter(**{f"{raw_field}__in": matching}).exclude(**{f"{link_field}_id": term.pk})
    return _relinked(tasks, kind=kind, term=term)


@transaction.atomic
def vocabulary_map_raw(*, kind: str, raw: str, term: VocabularyTerm | None) -> tuple[VocabularyTerm, int]:
    """Make the raw spelling `raw` stand for `term` (or, with no term, a new term named `raw`) and relink
    every task that carries it. Returns the term and how many tasks were relinked."""
    if kind not in VocabularyKind.values:
        raise ValidationError({"kind": f"unknown vocabulary kind {kind!r}"})
    key = normalise_key(raw)
    if not key:
        raise ValidationError({"raw": "There is nothing to map: the value is empty."})
    if term is None:
        term = vocabulary_term_get_or_create(kind=kind, name=raw)
    elif term.kind != kind:
        raise ValidationError({"term": f"{term.name} is a {term.get_kind_display().lower()}, not a {kind}."})
    elif key != term.key:
        alias = VocabularyAlias.objects.filter(kind=kind, key=key).first()
        if alias is None:
            vocabulary_alias_add(term=term, raw=raw)
        elif alias.term_id != term.pk:
            alias.term = term
            alias.save(update_fields=["term"])
    return term, _relink_spelling(kind=kind, key=key, term=term)


@transaction.atomic
def vocabulary_term_merge(*, source: VocabularyTerm, target: VocabularyTerm) -> int:
    """Fold `source` into `target` ("Medical student" into "Medical Student"): every spelling of source
    becomes an alias of target, every task linked to source is linked to target, and source is deleted.
    Returns how many tasks were relinked."""
    if source.pk == target.pk:
        raise ValidationError({"target": "A term cannot be merged into itself."})
    if source.kind != target.kind:
        raise ValidationError({"target": f"{source.name} and {target.name} are different kinds of term."})
    VocabularyAlias.objects.filter(term=source).update(term=target)
    link_field = _LINK_FIELDS[source.kind]
    relinked = _relinked(SeedTask.objects.filter(**{link_field: source}), kind=source.kind, term=target)
    source_name, source_key = source.name, source.key
    source.delete()  # its counts, all at 0 now, go with it
    if source_key != target.key and not VocabularyAlias.objects.filter(kind=target.kind, key=source_key).exists():
        VocabularyAlias.objects.create(kind=target.kind, term=target, raw=source_name, key=source_key)
    return relinked
