"""Imports over the API: upload a file or zip (it is imported on a worker), then poll the job for progress and report.

With `preview=true` the job waits: its `report.preview` shows how each file will be read and its
first records as stored, and POST .../confirm/ imports it. The same rules as the upload page apply.
"""

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from curation.access import access_import_job, access_imports
from curation.api.schema_annotations import extend_schema
from curation.models import ImportFormat, ImportJob
from curation.selectors.imports import import_jobs_of
from curation.services.imports import (
    import_job_confirm,
    import_job_create,
    import_jobs_recover_stale,
    import_options,
    upload_request_too_large,
)


class ImportCreateIn(serializers.Serializer):
    file = serializers.FileField(help_text="JSON, JSONL or CSV; see the formats")
    format = serializers.ChoiceField(
        choices=ImportFormat.choices, required=False, allow_blank=True, default="", help_text="Default: detected"
    )
    model_name = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200, help_text="Model outputs: the model"
    )
    mapping = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=1000, help_text="field=column,... e.g. output=answer"
    )
    accept_unknown_fields = serializers.BooleanField(
        required=False, default=False, help_text="Import although some fields would not be stored"
    )
    allow_duplicate_answers = serializers.BooleanField(
        required=False, default=False, help_text="Allow answers identical to another model's in the project"
    )
    preview = serializers.BooleanField(required=False, default=False, help_text="Wait for confirm/ before importing")


class ImportConfirmIn(serializers.Serializer):
    format = serializers.ChoiceField(choices=ImportFormat.choices, required=False, allow_blank=True)
    model_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    mapping = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)
    accept_unknown_fields = serializers.BooleanField(required=False, default=False)
    allow_duplicate_answers = serializers.BooleanField(required=False, default=False)


class ImportProblemOut(serializers.Serializer):
    line = serializers.IntegerField(allow_null=True, help_text="File line, or record number in a JSON array")
    unit = serializers.ChoiceField(choices=["line", "record"])
    file_line = serializers.IntegerField(required=False, help_text="In a JSON array: the line the record starts on")
    file = serializers.CharField(required=False, help_text="In a zip or folder: the file")
    field = serializers.CharField(allow_blank=True)
    reason = serializers.CharField()


class ImportJobOut(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.EmailField(source="created_by.email", default=None, read_only=True)
    problems = ImportProblemOut(many=True, read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "url",
            "project",
            "file_name",
            "file_size",
            "file_hash",
            "format",
            "model_name",
            "options",
            "status",
            "records_total",
            "records_validated",
            "records_written",
            "records_skipped",
            "problem_count",
            "problems",
            "report",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "heartbeat_at",
        ]

    def get_url(self, job: ImportJob) -> str:
        path = reverse("api_import_detail", args=[job.project.slug, job.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class ImportListApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses=ImportJobOut(many=True))
    def get(self, request: Request, slug: str) -> Response:
        project = access_imports(user=request.user, slug=slug)
        import_jobs_recover_stale()
        jobs = import_jobs_of(project=project)[:100]
        return Response(ImportJobOut(jobs, many=True, context={"request": request}).data)

    @extend_schema(
        request={"multipart/form-data": ImportCreateIn},
        responses={
            202: ImportJobOut,
            400: OpenApiResponse(description="Bad upload: errors keyed by field"),
            413: OpenApiResponse(description="Over CONCORD_IMPORT_MAX_BYTES"),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        project = access_imports(user=request.user, slug=slug)
        if too_large := upload_request_too_large(request.META.get("CONTENT_LENGTH")):
            return Response({"file": [too_large]}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        data = ImportCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        job = import_job_create(
            project=project,
            upload=given["file"],
            created_by=request.user,
            format=given["format"],
            model_name=given["model_name"],
            options=_options(given),
            confirm=not given["preview"],
        )
        return Response(ImportJobOut(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


def _options(given: dict) -> dict:
    return import_options(
        mapping=given.get("mapping", ""),
        accept_unknown_fields=given.get("accept_unknown_fields", False),
        allow_duplicate_answers=given.get("allow_duplicate_answers", False),
    )


class ImportDetailApi(APIView):
    @extend_schema(responses=ImportJobOut)
    def get(self, request: Request, slug: str, job_id: int) -> Response:
        project = access_imports(user=request.user, slug=slug)
        import_jobs_recover_stale()
        job = access_import_job(user=request.user, job_id=job_id, project=project)
        return Response(ImportJobOut(job, context={"request": request}).data)


class ImportConfirmApi(APIView):
    @extend_schema(
        request=ImportConfirmIn,
        responses={202: ImportJobOut, 400: OpenApiResponse(description="Not waiting, or bad choices")},
    )
    def post(self, request: Request, slug: str, job_id: int) -> Response:
        """Import a job that waits as a preview, with any choices changed on the way."""
        project = access_imports(user=request.user, slug=slug)
        job = access_import_job(user=request.user, job_id=job_id, project=project)
        data = ImportConfirmIn(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        job = import_job_confirm(
            job=job, format=given.get("format"), model_name=given.get("model_name"), options=_options(given)
        )
        return Response(ImportJobOut(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)
