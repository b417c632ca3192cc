from django.db import transaction

from curation.models import VocabularyAlias, VocabularyKind, VocabularyTerm
from curation.vocabulary import normalise_key


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


_TERM_FIELDS = {"topic": "topic_raw", "view": "view_raw", "task_type": "task_type_raw"}


@transaction.atomic
def seed_tasks_relink_vocabulary(*, project_id: int) -> int:
    """Re-resolve every task's raw topic/view/type to its term (after terms or aliases change).

    Returns how many links changed. Resolves each distinct raw value once, not once per task.
    """
    from curation.models import SeedTask

    changed = 0
    for kind, term_field in (
        (VocabularyKind.TOPIC, "topic"),
        (VocabularyKind.VIEW, "view"),
        (VocabularyKind.TASK_TYPE, "task_type"),
    ):
        raw_field = _TERM_FIELDS[term_field]
        raws = SeedTask.objects.filter(project_id=project_id).values_list(raw_field, flat=True).distinct()
        for raw in list(raws):
            term = vocabulary_resolve(kind=kind, raw=raw)
            changed += (
                SeedTask.objects.filter(project_id=project_id, **{raw_field: raw})
                .exclude(**{f"{term_field}_id": term.pk if term else None})
                .update(**{term_field: term})
            )
    return changed
