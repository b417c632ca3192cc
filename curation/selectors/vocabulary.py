"""Reads for the vocabulary page: every term with how many of the project's tasks use it, and the raw
values the project's tasks carry with no term."""

from dataclasses import dataclass, field

from django.db.models import Count

from curation.models import Project, SeedTask, VocabularyKind, VocabularyTerm

# Per kind: the raw text a file gave and the term it was linked to.
FIELDS = {
    VocabularyKind.TOPIC: ("topic_raw", "topic_id"),
    VocabularyKind.VIEW: ("view_raw", "view_id"),
    VocabularyKind.TASK_TYPE: ("task_type_raw", "task_type_id"),
}


@dataclass
class VocabularyUse:
    """One kind's terms (each with `task_count`, its tasks in the project) and unmapped raw values."""

    kind: str
    label: str
    terms: list[VocabularyTerm] = field(default_factory=list)
    unmapped: list[dict] = field(default_factory=list)  # {"raw": ..., "count": ...}, most used first


def vocabulary_use_of(*, project: Project) -> list[VocabularyUse]:
    """Every kind's terms and unmapped values, in five queries whatever the project's size.

    One GROUP BY (term, raw value) per kind gives both figures at once: rows without a term are the
    unmapped values, rows with one add up to the term's count. Each reads only the (project, term, raw)
    index of its kind, never the tasks' text.
    """
    uses = {kind: VocabularyUse(kind=kind, label=label) for kind, label in VocabularyKind.choices}
    term_counts: dict[int, int] = {}
    for kind, (raw_field, term_field) in FIELDS.items():
        rows = (
            SeedTask.objects.filter(project=project)
            .order_by()
            .values_list(term_field, raw_field)
            .annotate(n=Count("id"))
        )
        for term_id, raw, n in rows:
            if term_id is not None:
                term_counts[term_id] = term_counts.get(term_id, 0) + n
            elif raw:
                uses[kind].unmapped.append({"raw": raw, "count": n})
        uses[kind].unmapped.sort(key=lambda value: (-value["count"], value["raw"]))
    for term in VocabularyTerm.objects.prefetch_related("aliases").order_by("kind", "name"):
        term.task_count = term_counts.get(term.pk, 0)
        uses[term.kind].terms.append(term)
    return list(uses.values())
