"""Reads for the import pages and API, and for the vocabulary page that follows an import."""

from django.db.models import Count, QuerySet

from curation.models import ImportJob, Project, SeedTask, VocabularyKind, VocabularyTerm

RAW_FIELDS = {
    VocabularyKind.TOPIC: "topic_raw",
    VocabularyKind.VIEW: "view_raw",
    VocabularyKind.TASK_TYPE: "task_type_raw",
}
TERM_FIELDS = {VocabularyKind.TOPIC: "topic", VocabularyKind.VIEW: "view", VocabularyKind.TASK_TYPE: "task_type"}


def import_jobs_of(*, project: Project) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(project=project).select_related("project", "created_by").order_by("-created_at")


def unmapped_values_of(*, project: Project) -> dict[str, list[dict]]:
    """Per vocabulary kind, the raw values tasks of the project carry with no term, most used first."""
    unmapped = {}
    for kind, raw_field in RAW_FIELDS.items():
        rows = (
            SeedTask.objects.filter(project=project, **{f"{TERM_FIELDS[kind]}__isnull": True})
            .exclude(**{raw_field: ""})
            .values(raw_field)
            .annotate(count=Count("id"))
            .order_by("-count", raw_field)
        )
        unmapped[kind] = [{"raw": row[raw_field], "count": row["count"]} for row in rows]
    return unmapped


def vocabulary_terms_with_use(*, project: Project) -> dict[str, list[VocabularyTerm]]:
    """Every term per kind, each annotated with how many of the project's tasks use it (`task_count`)."""
    terms: dict[str, list[VocabularyTerm]] = {kind: [] for kind in RAW_FIELDS}
    counts: dict[int, int] = {}
    for term_field in TERM_FIELDS.values():
        rows = (
            SeedTask.objects.filter(project=project, **{f"{term_field}__isnull": False})
            .values(f"{term_field}_id")
            .annotate(count=Count("id"))
        )
        counts.update({row[f"{term_field}_id"]: row["count"] for row in rows})
    for term in VocabularyTerm.objects.prefetch_related("aliases").order_by("kind", "name"):
        term.task_count = counts.get(term.pk, 0)
        terms.setdefault(term.kind, []).append(term)
    return terms
