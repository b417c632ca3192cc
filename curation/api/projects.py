"""Who am I, and the projects I can see."""

from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from curation.access import access_project
from curation.api.schema_annotations import extend_schema
from curation.models import Project
from curation.selectors.projects import projects_visible_to


class MeOut(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "name", "role", "specialty", "credentials"]


class ProjectOut(serializers.ModelSerializer):
    seed_schema = serializers.PrimaryKeyRelatedField(read_only=True)
    response_schema = serializers.PrimaryKeyRelatedField(read_only=True)
    # An archived project is still listed (its data stays readable) but takes no new work: say so.
    archived = serializers.SerializerMethodField()

    def get_archived(self, project: Project) -> bool:
        return project.archived_at is not None

    class Meta:
        model = Project
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "guidelines",
            "guidelines_version",
            "seed_schema",
            "response_schema",
            "created_at",
            "archived",
            "archived_at",
        ]


class MeApi(APIView):
    @extend_schema(responses=MeOut)
    def get(self, request: Request) -> Response:
        return Response(MeOut(request.user).data)


class ProjectListApi(generics.ListAPIView):
    serializer_class = ProjectOut
    cursor_ordering = ("name", "id")

    def get_queryset(self):
        return projects_visible_to(user=self.request.user)


class ProjectDetailApi(generics.RetrieveAPIView):
    serializer_class = ProjectOut

    def get_object(self):
        return access_project(user=self.request.user, slug=self.kwargs["slug"])
