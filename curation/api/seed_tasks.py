from rest_framework import generics, serializers

from curation.access import access_project, access_task
from curation.filters import SeedTaskFilter
from curation.models import Project, SeedTask
from curation.pagination import ApiCursorPagination
from curation.selectors.seed_tasks import seed_tasks_not_searchable_yet, seed_tasks_of


class SeedTaskOut(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    topic = serializers.CharField(source="topic.name", default=None, allow_null=True, read_only=True)
    view = serializers.CharField(source="view.name", default=None, allow_null=True, read_only=True)
    task_type = serializers.CharField(source="task_type.name", default=None, allow_null=True, read_only=True)

    class Meta:
        model = SeedTask
        fields = [
            "id",
            "project",
            "instruction",
            "input",
            "reference_output",
            "topic",
            "topic_raw",
            "view",
            "view_raw",
            "task_type",
            "task_type_raw",
            "difficulty",
            "source",
            "status",
            "external_id",
            "origin_file",
            "origin_line",
            "content_hash",
            "version",
            "created_at",
            "updated_at",
        ]


# A task list page's `not_searchable_yet`: curation.selectors.seed_tasks.ImportNotSearchable, an item per import.
NOT_SEARCHABLE_YET_SCHEMA = {
    "type": "array",
    "description": "The imports whose tasks search (`q`) does not find yet: see the operation's description",
    "items": {
        "type": "object",
        "properties": {
            "import_job": {"type": "integer", "description": "The import job's id"},
            "file_name": {"type": "string"},
            "tasks": {"type": "integer", "description": "How many tasks it wrote, which search does not find yet"},
        },
        "required": ["import_job", "file_name", "tasks"],
    },
}


class SeedTaskPagination(ApiCursorPagination):
    """The API's cursor pages, with `not_searchable_yet` beside `results` (SeedTaskListApi.list adds it)."""

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["not_searchable_yet"] = NOT_SEARCHABLE_YET_SCHEMA
        paginated["required"] = [*paginated["required"], "not_searchable_yet"]
        return paginated


class SeedTaskListApi(generics.ListAPIView):
    """The project's seed tasks in id order, 50 a page (`page_size` up to 200); `next` carries the cursor.

    Every page also has `not_searchable_yet`: the project's imports, oldest first, whose tasks search (`q`)
    does not find yet, because the job after the import has not built their search documents (PostgreSQL).
    The list shows their tasks without `q`, and `q` finds them once the job has run. The field is there with
    or without `q`, so that a client can tell before it searches; it is empty when every import is
    searchable, and always on SQLite, where search reads the tasks themselves.
    """

    serializer_class = SeedTaskOut
    pagination_class = SeedTaskPagination
    cursor_ordering = "id"
    filterset_class = SeedTaskFilter
    queryset = SeedTask.objects.none()  # for the schema only: the rows come from get_queryset
    project: Project

    def get_queryset(self):
        self.project = access_project(user=self.request.user, slug=self.kwargs["slug"])
        return seed_tasks_of(project=self.project).select_related("project")

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        # A search would otherwise miss these imports' tasks without a word (as the task list page says).
        waiting = seed_tasks_not_searchable_yet(project=self.project)
        response.data["not_searchable_yet"] = [
            {"import_job": job.import_job_id, "file_name": job.file_name, "tasks": job.tasks} for job in waiting
        ]
        return response


class SeedTaskDetailApi(generics.RetrieveAPIView):
    serializer_class = SeedTaskOut

    def get_object(self):
        project = access_project(user=self.request.user, slug=self.kwargs["slug"])
        return access_task(user=self.request.user, task_id=self.kwargs["task_id"], project=project)
