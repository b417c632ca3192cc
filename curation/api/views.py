from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from curation.access import access_project, access_task
from curation.filters import SeedTaskFilter
from curation.selectors import projects_visible_to, seed_tasks_of

from .serializers import MeOut, ProjectOut, SeedTaskOut


class MeApi(APIView):
    @extend_schema(responses=MeOut)
    def get(self, request: Request) -> Response:
        return Response(MeOut(request.user).data)


class ProjectListApi(generics.ListAPIView):
    serializer_class = ProjectOut

    def get_queryset(self):
        return projects_visible_to(user=self.request.user).order_by("name")


class ProjectDetailApi(generics.RetrieveAPIView):
    serializer_class = ProjectOut

    def get_object(self):
        return access_project(user=self.request.user, slug=self.kwargs["slug"])


class SeedTaskListApi(generics.ListAPIView):
    serializer_class = SeedTaskOut
    filterset_class = SeedTaskFilter

    def get_queryset(self):
        project = access_project(user=self.request.user, slug=self.kwargs["slug"])
        return seed_tasks_of(project=project).select_related("project").order_by("id")


class SeedTaskDetailApi(generics.RetrieveAPIView):
    serializer_class = SeedTaskOut

    def get_object(self):
        project = access_project(user=self.request.user, slug=self.kwargs["slug"])
        return access_task(user=self.request.user, task_id=self.kwargs["task_id"], project=project)
