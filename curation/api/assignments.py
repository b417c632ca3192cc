"""Handing out work by script: the same batch as the curator's assign page, curators and admins only."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from curation.access import access_assignments
from curation.api.parsers import JSON_ONLY
from curation.api.schema_annotations import extend_schema
from curation.models import Difficulty, TaskStatus
from curation.services.assignments import ITEM_KINDS, MAX_BATCH, assignments_batch_create


class AssignmentBatchIn(serializers.Serializer):
    reviewers = serializers.ListField(
        child=serializers.EmailField(),
        allow_empty=False,
        min_length=1,
        help_text="Emails of project members who review",
    )
    k = serializers.IntegerField(min_value=1, max_value=20, help_text="Reviewers per item")
    kind = serializers.ChoiceField(choices=ITEM_KINDS, default="seed_task")
    item_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=MAX_BATCH,
        help_text="These items; without it, the filter below chooses them",
    )
    status = serializers.ChoiceField(choices=TaskStatus.choices, required=False, default="")
    difficulty = serializers.ChoiceField(choices=Difficulty.choices, required=False, allow_null=True, default=None)
    topic = serializers.CharField(required=False, default="", max_length=200, help_text="Topic contains")
    model_name = serializers.CharField(required=False, default="", max_length=200, help_text="Responses only")
    limit = serializers.IntegerField(min_value=1, max_value=MAX_BATCH, default=100, help_text="At most this many items")


class AssignmentBatchOut(serializers.Serializer):
    created = serializers.IntegerField(help_text="Assignments made")
    items = serializers.IntegerField(help_text="Items considered")
    short = serializers.ListField(child=serializers.CharField(), help_text="Items that could not reach k, and why")


class AssignmentBatchApi(APIView):
    parser_classes = JSON_ONLY

    @extend_schema(
        request=AssignmentBatchIn,
        responses={
            201: AssignmentBatchOut,
            400: OpenApiResponse(description="Refused, by field (unknown reviewer, not a member, bad ids)"),
        },
        summary="Assign items to reviewers (curators and admins), as the assign page does",
        description=(
            "Each item gets up to k reviewers from those named, least loaded first; nobody gets an item twice and"
            " whoever edited a seed task does not rate its responses. Items by id, or else by the filter."
        ),
    )
    def post(self, request: Request, slug: str) -> Response:
        project = access_assignments(user=request.user, slug=slug)
        data_in = AssignmentBatchIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        result = assignments_batch_create(
            project=project,
            assigned_by=request.user,
            reviewer_emails=data["reviewers"],
            k=data["k"],
            kind=data["kind"],
            item_ids=data.get("item_ids"),
            status=data["status"],
            difficulty=data["difficulty"],
            topic=data["topic"],
            model_name=data["model_name"],
            limit=data["limit"],
        )
        body = AssignmentBatchOut({"created": result.created, "items": result.items, "short": result.short}).data
        return Response(body, status=status.HTTP_201_CREATED)
