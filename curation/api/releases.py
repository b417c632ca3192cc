"""Releases over the API: create one (built on a worker), poll it, download its data or card."""

from typing import Any

from django.http import FileResponse, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from curation.access import access_release, access_releases
from curation.api.parsers import JSON_ONLY
from curation.api.schema_annotations import extend_schema
from curation.models import Release, ReleaseFormat
from curation.release_downloads import release_card_response, release_file_response
from curation.releases_definition import FilterSpec, ReleaseFilters
from curation.selectors.releases import releases_of
from curation.services.release_attempts import releases_recover_stale
from curation.services.releases import DEFAULT_LICENSE, ReleaseNotRetryable, release_create, release_retry


class _Given(serializers.Field):
    """A value passed on as the client sent it: ReleaseDefinition reads and checks it, as for the pages."""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


def _given(schema: dict[str, Any], **kwargs: Any) -> serializers.Field:
    return extend_schema_field(schema)(type("Given", (_Given,), {}))(**kwargs)


def _filter_schema(spec: FilterSpec) -> dict[str, Any]:
    """The JSON schema of one filter, for the API's documentation."""
    item = {"choices": {"type": "string", "enum": [value for value, _ in spec.choices]},
            "names": {"type": "string"},
            "levels": {"type": "integer", "enum": [value for value, _ in spec.choices]},
            "ids": {"type": "integer"}}  # fmt: skip
    if spec.is_list:
        return {"type": "array", "items": item[spec.kind]}
    scalar = {"count": {"type": "integer", "minimum": spec.minimum},
              "share": {"type": "number", "minimum": spec.minimum, "maximum": spec.maximum, "nullable": True},
              "date": {"type": "string", "format": "date", "nullable": True},
              "flag": {"type": "boolean"}}  # fmt: skip
    return scalar.get(spec.kind, {"type": "string"})


def _filters_schema() -> dict[str, Any]:
    """The filters by name (curation.releases_definition.ReleaseFilters); any left out take their default.

    Closed to other names: the definition refuses a filter it does not know, naming it.
    """
    defaults = ReleaseFilters.defaults()
    properties = {
        name: {**_filter_schema(spec), "default": defaults[name], **({"description": spec.help} if spec.help else {})}
        for name, spec in ReleaseFilters.specs().items()
    }
    return {"type": "object", "properties": properties, "additionalProperties": False}


class ReleaseCreateIn(serializers.Serializer):
    format = _given({"type": "string", "enum": ReleaseFormat.values})
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    purpose = serializers.CharField(required=False, allow_blank=True, default="")
    license = serializers.CharField(required=False, default=DEFAULT_LICENSE, max_length=200)
    # Passed on whole: the definition reads and checks each filter (unknown names and values of the
    # wrong kind included) with the messages the pages show.
    filters = _given(_filters_schema(), required=False)


class ReleaseInterruptionOut(serializers.Serializer):
    """A time the worker building the release stopped, and what became of the build."""

    attempt = serializers.IntegerField(help_text="The attempt whose worker stopped")
    last_seen = serializers.DateTimeField(help_text="Its last sign of work")
    at = serializers.DateTimeField(help_text="When the stop was found and the build started again, or failed")
    then = serializers.ChoiceField(choices=["taken over", "queued again", "failed"])


class ReleaseOut(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    interruptions = ReleaseInterruptionOut(many=True, read_only=True)
    created_by = serializers.EmailField(source="created_by.email", default=None, read_only=True)
    percent = serializers.IntegerField(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Release
        fields = [
            "id",
            "project",
            "title",
            "purpose",
            "license",
            "format",
            "filters",
            "definition_hash",
            "status",
            "percent",
            "rows_written",
            "rows_total",
            "attempts",
            "interruptions",
            "row_count",
            "sha256",
            "file_size",
            "schema_versions",
            "guidelines_version",
            "card",
            "error",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "download_url",
        ]

    def get_download_url(self, release: Release) -> str | None:
        if release.status != "succeeded":
            return None
        request = self.context.get("request")
        path = reverse("api_release_download", kwargs={"slug": release.project.slug, "release_id": release.pk})
        return request.build_absolute_uri(path) if request else path


class ReleaseSummaryOut(ReleaseOut):
    """A release in a list: everything but the card, which the detail endpoint returns."""

    class Meta(ReleaseOut.Meta):
        fields = [name for name in ReleaseOut.Meta.fields if name != "card"]


class ReleaseListApi(APIView):
    parser_classes = JSON_ONLY

    @extend_schema(responses=ReleaseSummaryOut(many=True))
    def get(self, request: Request, slug: str) -> Response:
        project = access_releases(user=request.user, slug=slug)
        releases_recover_stale()
        releases = releases_of(project=project)
        return Response(ReleaseSummaryOut(releases, many=True, context={"request": request}).data)

    @extend_schema(
        request=ReleaseCreateIn,
        responses={202: ReleaseOut, 400: OpenApiResponse(description="Bad definition: errors keyed by field")},
    )
    def post(self, request: Request, slug: str) -> Response:
        project = access_releases(user=request.user, slug=slug)
        data = ReleaseCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        definition = data.validated_data
        # A refused definition is a ValidationError, answered 400 by field by curation.api.exceptions.
        release = release_create(
            project=project,
            created_by=request.user,
            format=definition["format"],
            filters=definition.get("filters"),
            title=definition["title"],
            purpose=definition["purpose"],
            license=definition["license"],
        )
        release.refresh_from_db()
        return Response(ReleaseOut(release, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class ReleaseDetailApi(APIView):
    @extend_schema(responses=ReleaseOut)
    def get(self, request: Request, slug: str, release_id: int) -> Response:
        project = access_releases(user=request.user, slug=slug)
        releases_recover_stale()
        release = access_release(user=request.user, release_id=release_id, project=project)
        return Response(ReleaseOut(release, context={"request": request}).data)


class ReleaseRetryApi(APIView):
    @extend_schema(request=None, responses={202: ReleaseOut, 409: OpenApiResponse(description="Not retryable")})
    def post(self, request: Request, slug: str, release_id: int) -> Response:
        project = access_releases(user=request.user, slug=slug)
        release = access_release(user=request.user, release_id=release_id, project=project)
        try:
            release = release_retry(release_id=release.pk, actor=request.user)
        except ReleaseNotRetryable as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(ReleaseOut(release, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


DOWNLOAD_200 = "The data: text/csv for a CSV release, application/x-ndjson (JSON Lines) for every other format"


class ReleaseDownloadApi(APIView):
    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description=DOWNLOAD_200),
            (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.BINARY, description=DOWNLOAD_200),
            (409, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="The release is not built"),
            (410, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="The file is no longer in storage"),
        },
        description="The file as an attachment, its SHA-256 in the X-Content-SHA256 header.",
    )
    def get(self, request: Request, slug: str, release_id: int) -> FileResponse | HttpResponse:
        project = access_releases(user=request.user, slug=slug)
        release = access_release(user=request.user, release_id=release_id, project=project)
        return release_file_response(release)


class ReleaseCardApi(APIView):
    @extend_schema(
        responses={
            (200, "text/markdown"): OpenApiTypes.STR,
            (409, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="The release is not built"),
        }
    )
    def get(self, request: Request, slug: str, release_id: int) -> HttpResponse:
        project = access_releases(user=request.user, slug=slug)
        release = access_release(user=request.user, release_id=release_id, project=project)
        return release_card_response(release)
