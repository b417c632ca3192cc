"""The review workspace over the API: my next item, submit a review (idempotent), my own reviews.

Blind review holds here as in the pages: an item comes with the caller's own draft only, a response
comes without its model's name, and the list of reviews is the caller's own, never anyone else's.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from curation.access import access_assignment, access_project
from curation.api.parsers import JSON_ONLY
from curation.api.schema_annotations import extend_schema
from curation.models import Assignment, Review
from curation.selectors.reviews import assignment_item_loaded, my_reviews
from curation.services.assignments import assignment_next
from curation.services.reviews import review_submission_record


class SchemaOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.IntegerField()
    definition = serializers.JSONField()


class ReviewSeedTaskOut(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    instruction = serializers.CharField()
    input = serializers.CharField()
    reference_output = serializers.CharField()
    topic = serializers.CharField(source="topic_raw")
    view = serializers.CharField(source="view_raw")
    task_type = serializers.CharField(source="task_type_raw")
    difficulty = serializers.IntegerField(allow_null=True)


class PromptOut(serializers.Serializer):
    instruction = serializers.CharField()
    input = serializers.CharField()


class BlindResponseOut(serializers.Serializer):
    """A model response with its model's name, version and settings left out."""

    id = serializers.IntegerField()
    text = serializers.CharField()
    prompt = PromptOut(source="item")


class DraftOut(serializers.Serializer):
    answers = serializers.JSONField()
    corrected_text = serializers.CharField()
    updated_at = serializers.DateTimeField()


class ReviewItemOut(serializers.Serializer):
    assignment = serializers.IntegerField(source="pk")
    status = serializers.CharField()
    kind = serializers.SerializerMethodField()
    schema = serializers.SerializerMethodField()
    seed_task = ReviewSeedTaskOut(allow_null=True)
    response = BlindResponseOut(allow_null=True)
    draft = serializers.SerializerMethodField()

    def get_kind(self, assignment: Assignment) -> str:
        return "response" if assignment.response_id else "seed_task"

    @extend_schema_field(SchemaOut(allow_null=True))
    def get_schema(self, assignment: Assignment) -> dict | None:
        schema = assignment.project.response_schema if assignment.response_id else assignment.project.seed_schema
        return SchemaOut(schema).data if schema else None

    @extend_schema_field(DraftOut(allow_null=True))
    def get_draft(self, assignment: Assignment) -> dict | None:
        draft = getattr(assignment, "draft", None)
        return DraftOut(draft).data if draft else None


class ReviewSubmitIn(serializers.Serializer):
    assignment = serializers.IntegerField()
    answers = serializers.DictField(child=serializers.JSONField())
    corrected_text = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    submission_key = serializers.UUIDField(help_text="Chosen by the client; a retry with the same key is a no-op")


class ReviewOut(serializers.ModelSerializer):
    class Meta:
        model = Review
        fields = [
            "id",
            "assignment",
            "seed_task",
            "response",
            "schema",
            "version",
            "is_current",
            "answers",
            "corrected_text",
            "submission_key",
            "submitted_at",
        ]


def _next_item(assignment: Assignment) -> Assignment:
    """The assignment again with what ReviewItemOut reads: its forms and draft, then its item apart (as the
    review page reads it: one query joining every table took longer to plan than to run)."""
    again = (
        Assignment.objects.select_related("project__seed_schema", "project__response_schema")
        .prefetch_related("draft")
        .get(pk=assignment.pk)
    )
    return assignment_item_loaded(assignment=again)


class ReviewNextApi(APIView):
    @extend_schema(
        request=None,
        responses={200: ReviewItemOut, 204: OpenApiResponse(description="Nothing left to review")},
        summary="My next item: my oldest pending assignment, or a newly claimed open item",
        description=(
            "A POST, not a GET: when the caller has nothing pending it claims an open item for them (an"
            " assignment is created), so it is neither safe nor idempotent. Calling it again returns the"
            " same pending assignment until it is submitted or skipped."
        ),
    )
    def post(self, request: Request, slug: str) -> Response:
        project = access_project(user=request.user, slug=slug)
        assignment = assignment_next(project=project, reviewer=request.user)
        if assignment is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(ReviewItemOut(_next_item(assignment)).data)


class ReviewSubmitApi(APIView):
    parser_classes = JSON_ONLY

    @extend_schema(
        request=ReviewSubmitIn,
        responses={201: ReviewOut, 200: ReviewOut, 400: OpenApiResponse(description="Answers refused, by field")},
        summary="Submit a review; the same submission_key again returns the first review (200)",
    )
    def post(self, request: Request, slug: str) -> Response:
        project = access_project(user=request.user, slug=slug)
        data_in = ReviewSubmitIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        assignment = access_assignment(user=request.user, assignment_id=data["assignment"], project=project)
        submission = review_submission_record(
            assignment_id=assignment.pk,
            reviewer=request.user,
            answers=data["answers"],
            corrected_text=data["corrected_text"],
            submission_key=data["submission_key"],
        )
        code = status.HTTP_201_CREATED if submission.created else status.HTTP_200_OK
        return Response(ReviewOut(submission.review).data, status=code)


class MyReviewListApi(generics.ListAPIView):
    """The caller's own reviews in the project, newest first (earlier versions included)."""

    serializer_class = ReviewOut
    cursor_ordering = "-id"
    queryset = Review.objects.none()  # for the schema only: the rows come from get_queryset

    def get_queryset(self):
        project = access_project(user=self.request.user, slug=self.kwargs["slug"])
        return my_reviews(user=self.request.user, project=project)
