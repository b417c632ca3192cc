"""Reads for assigning work."""

from django.db.models import Q

from curation.models import AssignmentCount, ModelResponse, Project, SeedTask


def pending_counts_of(*, project: Project, reviewer_ids: list[int]) -> dict[int, int]:
    """How many pending assignments each of the reviewers has in the project (reviewers with none left
    out), from their counts (AssignmentCount): one row per reviewer, however many assignments."""
    return dict(
        AssignmentCount.objects.filter(project=project, reviewer_id__in=reviewer_ids, pending__gt=0).values_list(
            "reviewer_id", "pending"
        )
    )


def project_response_model_names(*, project: Project) -> list[str]:
    """The names of the models with responses in the project (to its seed tasks or its test prompts)."""
    return list(
        ModelResponse.objects.filter(Q(seed_task__project=project) | Q(prompt__project=project))
        .order_by("model_name")
        .values_list("model_name", flat=True)
        .distinct()
    )


def assignable_item_ids(
    *,
    project: Project,
    kind: str,
    limit: int,
    status: str = "",
    difficulty: int | None = None,
    topic: str = "",
    model_name: str = "",
) -> list[int]:
    """Ids of the project's seed tasks (kind "seed_task") or model responses ("response") matching the
    filter, lowest first, at most `limit`: a batch chosen by filter on the assign page, the API or the CLI."""
    if kind == "seed_task":
        items = SeedTask.objects.filter(project=project)
        if status:
            items = items.filter(status=status)
        if difficulty:
            items = items.filter(difficulty=difficulty)
        if topic:
            items = items.filter(topic_raw__icontains=topic)
    else:
        items = ModelResponse.objects.filter(Q(seed_task__project=project) | Q(prompt__project=project))
        if model_name:
            items = items.filter(model_name=model_name)
        if status:
            items = items.filter(seed_task__status=status)
        if difficulty:
            items = items.filter(Q(seed_task__difficulty=difficulty) | Q(prompt__difficulty=difficulty))
        if topic:
            items = items.filter(seed_task__topic_raw__icontains=topic)
    return list(items.order_by("pk").values_list("pk", flat=True)[:limit])
