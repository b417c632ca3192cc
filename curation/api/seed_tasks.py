from rest_framework import generics, serializers

from curation.access import access_project, access_task
from curation.filters import SeedTaskFilter
from curation.models import SeedTask
from curation.selectors.seed_tasks import seed_tasks_of


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


class SeedTaskListApi(generics.ListAPIView):
    """The project's seed tasks in id order, 50 a page (`page_size` up to 200); `next` carries the cursor."""

    serializer_class = SeedTaskOut
    cursor_ordering = "id"
    filterset_class = SeedTaskFilter
    queryset = SeedTask.objects.none()  # for the schema only: the rows come from get_queryset

    def get_queryset(self):
        project = access_project(user=self.request.user, slug=self.kwargs["slug"])
        return seed_tasks_of(project=project).select_related("project")


class SeedTaskDetailApi(generics.RetrieveAPIView):
    serializer_class = SeedTaskOut

    def get_object(self):
        project = access_project(user=self.request.user, slug=self.kwargs["slug"])
        return access_task(user=self.request.user, task_id=self.kwargs["task_id"], project=project)
