from django.contrib import admin
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from curation.models import (
    AcceptanceEvent,
    Assignment,
    EvaluationRound,
    GoldLabel,
    Judgment,
    Membership,
    ModelResponse,
    Project,
    Prompt,
    RatingSchema,
    Release,
    Review,
    SeedTask,
    VocabularyAlias,
    VocabularyTerm,
)
from curation.services.assignments import assignment_counts_recount
from curation.services.seed_tasks import TEXT_FIELDS, seed_task_texts_saved, seed_tasks_recount


def _projects_recount(project_ids) -> None:
    for project in Project.objects.filter(pk__in={pk for pk in project_ids if pk is not None}):
        seed_tasks_recount(project=project)
        assignment_counts_recount(project=project)


class CountsRecounted:
    """For rows the kept counts describe (tasks, their responses, assignments), which the admin writes
    directly rather than through the services that keep the counts: the counts of the projects a save or
    a delete touched are counted again after it (seconds for a project of a million tasks; an admin's
    edit is rare)."""

    @staticmethod
    def counted_project_id(obj) -> int | None:
        return obj.project_id

    def save_model(self, request, obj, form, change):
        stored = type(obj).objects.filter(pk=obj.pk).first() if change else None
        super().save_model(request, obj, form, change)
        _projects_recount([self.counted_project_id(obj), stored and self.counted_project_id(stored)])

    def delete_model(self, request, obj):
        project_id = self.counted_project_id(obj)
        super().delete_model(request, obj)
        _projects_recount([project_id])

    def delete_queryset(self, request, queryset):
        project_ids = [self.counted_project_id(obj) for obj in queryset]
        super().delete_queryset(request, queryset)
        _projects_recount(project_ids)


class ViewOnly:
    """For records that services write and nobody edits: the admin shows them, never adds or changes them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(SeedTask)
class SeedTaskAdmin(CountsRecounted, SimpleHistoryAdmin):
    list_display = [
        "id",
        "project",
        "short_instruction",
        "topic",
        "view",
        "task_type",
        "difficulty",
        "status",
    ]
    list_filter = ["project", "status", "source", "difficulty", "task_type"]
    search_fields = ["instruction", "external_id"]
    list_select_related = ["project", "topic", "view", "task_type"]
    readonly_fields = ["content_hash", "version", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        # The form saves the fields as typed; what the texts decide (their hash, which the PHI and search
        # catch-ups go by, the search document and the PHI scan, both of which also name the project) is
        # kept as the app's own edits keep it.
        texts_changed = not change or any(field in (*TEXT_FIELDS, "project") for field in form.changed_data)
        if change and form.changed_data:
            obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)
        if texts_changed:
            seed_task_texts_saved(task=obj, new=not change)

    @admin.display(description="Instruction")
    def short_instruction(self, obj: SeedTask) -> str:
        return obj.instruction[:80]


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "external_id", "difficulty"]
    list_filter = ["project"]
    search_fields = ["instruction", "external_id"]


@admin.register(ModelResponse)
class ModelResponseAdmin(CountsRecounted, admin.ModelAdmin):
    @staticmethod
    def counted_project_id(obj) -> int | None:
        return obj.item.project_id if obj.item else None

    list_display = ["id", "model_name", "model_version", "seed_task", "prompt"]
    list_filter = ["model_name"]
    raw_id_fields = ["seed_task", "prompt"]


class VocabularyAliasInline(admin.TabularInline):
    model = VocabularyAlias
    extra = 0
    fields = ["raw", "key"]


@admin.register(VocabularyTerm)
class VocabularyTermAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "key"]
    list_filter = ["kind"]
    search_fields = ["name", "aliases__raw"]
    inlines = [VocabularyAliasInline]


@admin.register(RatingSchema)
class RatingSchemaAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "project", "target", "created_at"]
    list_filter = ["project", "target"]


@admin.register(Assignment)
class AssignmentAdmin(CountsRecounted, admin.ModelAdmin):
    list_display = ["id", "project", "reviewer", "seed_task", "response", "status"]
    list_filter = ["project", "status"]
    raw_id_fields = ["seed_task", "response"]


@admin.register(Review)
class ReviewAdmin(ViewOnly, admin.ModelAdmin):
    """Reviews are immutable records: the admin shows them and never edits them."""

    list_display = ["id", "project", "reviewer", "schema", "version", "is_current", "submitted_at"]
    list_filter = ["project", "is_current"]


@admin.register(Release)
class ReleaseAdmin(ViewOnly, admin.ModelAdmin):
    """Releases are built by curation.services.releases and immutable once built: the admin only shows them."""

    list_display = ["id", "project", "title", "format", "status", "row_count", "created_by", "created_at"]
    list_filter = ["project", "format", "status"]
    exclude = ["salt"]


@admin.register(GoldLabel)
class GoldLabelAdmin(ViewOnly, SimpleHistoryAdmin):
    """Read-only here: gold labels are set on the adjudication page, which checks versions and the form."""

    list_display = ["id", "project", "seed_task", "response", "schema", "reason", "version", "adjudicated_by"]
    list_filter = ["project", "reason"]
    readonly_fields = [f.name for f in GoldLabel._meta.fields] + ["reviews"]


@admin.register(AcceptanceEvent)
class AcceptanceEventAdmin(ViewOnly, admin.ModelAdmin):
    """The audit of dataset decisions: never edited or deleted."""

    list_display = ["id", "project", "action", "mode", "task_count", "actor", "created_at"]
    list_filter = ["project", "action", "mode"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(EvaluationRound)
class EvaluationRoundAdmin(ViewOnly, admin.ModelAdmin):
    """Rounds are set up, frozen and closed on their pages, which check the definition and the schedule."""

    list_display = ["id", "project", "name", "mode", "pairing", "status", "judgments_per_item", "created_at"]
    list_filter = ["project", "mode", "status"]
    search_fields = ["name"]


@admin.register(Judgment)
class JudgmentAdmin(ViewOnly, admin.ModelAdmin):
    """Judgments are never edited: the judging page refuses a second answer for a slot."""

    list_display = ["id", "round", "item", "reviewer", "submitted_at"]
    list_filter = ["round__project", "round"]
    list_select_related = ["round", "item", "reviewer"]

    def has_delete_permission(self, request, obj=None):
        return False
