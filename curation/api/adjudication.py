"""Adjudication over the API, for curators and admins: the disagreement queue and setting a gold label."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from curation.access import access_item_for_adjudication, access_project_for_adjudication
from curation.api.computations import ComputingOut, computing_response
from curation.api.params import query_flag
from curation.api.parsers import JSON_ONLY
from curation.api.schema_annotations import extend_schema
from curation.models import GoldLabel, ReasonCode
from curation.pagination import ApiCursorPagination
from curation.selectors.adjudication import adjudication_settings_of, schema_for_item
from curation.selectors.disagreements import disputed_items_of
from curation.services.adjudication import AdjudicationConflict, gold_label_adjudicate
from curation.services.assignments import ITEM_KINDS
from curation.services.disagreements import disagreements_latest, disagreements_recompute


class FieldDisagreementOut(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    values = serializers.ListField(child=serializers.JSONField(), help_text="The reviewers' answers, in review order")
    spread = serializers.FloatField(allow_null=True, help_text="Max minus min on an ordered field; null otherwise")
    severity = serializers.FloatField(help_text="0..1, relative to the field's range or to a unanimous answer")


class DisagreementOut(serializers.Serializer):
    position = serializers.IntegerField(help_text="Place in the queue, 1 the most severe")
    item_type = serializers.ChoiceField(choices=ITEM_KINDS)
    item_id = serializers.IntegerField()
    schema_id = serializers.IntegerField()
    level = serializers.ChoiceField(choices=["safety", "high", "medium", "low"])
    safety = serializers.ListField(child=serializers.CharField(), source="safety_reasons")
    fields = FieldDisagreementOut(many=True)
    review_ids = serializers.ListField(child=serializers.IntegerField())
    gold_version = serializers.IntegerField(allow_null=True)
    settled = serializers.BooleanField()


class DisagreementPageOut(serializers.Serializer):
    computed_at = serializers.DateTimeField(help_text="When a worker found these")
    stale = serializers.BooleanField(help_text="Reviews, flags or the rule changed since: POST to recompute")
    computing = serializers.BooleanField(help_text="A new search is on its way")
    to_settle = serializers.IntegerField()
    settled = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = DisagreementOut(many=True)


class AdjudicateIn(serializers.Serializer):
    item_type = serializers.ChoiceField(choices=ITEM_KINDS)
    item_id = serializers.IntegerField(min_value=1)
    schema_id = serializers.IntegerField(
        required=False, min_value=1, help_text="Default: the form most of the item's current reviews used"
    )
    values = serializers.DictField(help_text="The final value of each field, keyed by field, as in a review")
    final_text = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    reason = serializers.ChoiceField(choices=ReasonCode.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    expected_version = serializers.IntegerField(
        min_value=0, help_text="The gold label's version you started from; 0 when there was none"
    )


class GoldLabelOut(serializers.ModelSerializer):
    item_type = serializers.SerializerMethodField()
    item_id = serializers.SerializerMethodField()
    adjudicated_by = serializers.EmailField(source="adjudicated_by.email", read_only=True)
    review_ids = serializers.SerializerMethodField()

    class Meta:
        model = GoldLabel
        fields = [
            "id",
            "item_type",
            "item_id",
            "schema",
            "values",
            "final_text",
            "reason",
            "note",
            "soft_label",
            "review_ids",
            "adjudicated_by",
            "version",
            "created_at",
            "updated_at",
        ]

    def get_item_type(self, obj) -> str:
        return "seed_task" if obj.seed_task_id else "response"

    def get_item_id(self, obj) -> int:
        return obj.seed_task_id or obj.response_id

    def get_review_ids(self, obj) -> list[int]:
        return sorted(r.pk for r in obj.reviews.all())


class ConflictOut(serializers.Serializer):
    detail = serializers.CharField()
    current = GoldLabelOut(allow_null=True)


class DisagreementListApi(APIView):
    cursor_ordering = "position"

    @extend_schema(
        summary="The disagreement queue a worker last found (curators and admins)",
        description=(
            "The items whose reviews disagree under the project's rule, or that carry a safety flag, most severe "
            "first, 50 a page (`page_size` up to 200; `next` carries the cursor). A worker finds them: this "
            "answers the last search with `computed_at` and `stale`, or 202 with a `Location` to poll while the "
            "first search runs. A POST queues a new search."
        ),
        parameters=[
            OpenApiParameter("settled", bool, description="Include items already settled by a gold label"),
            OpenApiParameter("cursor", str, description="From the previous page's `next` or `previous`"),
            OpenApiParameter("page_size", int, description="Items a page, up to 200"),
        ],
        responses={200: DisagreementPageOut, 202: ComputingOut},
    )
    def get(self, request: Request, slug: str) -> Response:
        project = access_project_for_adjudication(user=request.user, slug=slug)
        include_settled = query_flag(request, "settled")
        latest = disagreements_latest(project=project, rules=adjudication_settings_of(project=project))
        if not latest.ready:
            return computing_response(request, latest, what="the disagreement queue")
        rows = disputed_items_of(
            project=project, generation=latest.computation.generation, include_settled=include_settled
        ).select_related(None)
        paginator = ApiCursorPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return Response(
            {
                "computed_at": latest.computed_at,
                "stale": latest.stale,
                "computing": latest.computing,
                "to_settle": latest.result.get("to_settle", 0),
                "settled": latest.result.get("settled", 0),
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": DisagreementOut(page, many=True).data,
            }
        )

    @extend_schema(summary="Queue a new search for disagreements", request=None, responses={202: ComputingOut})
    def post(self, request: Request, slug: str) -> Response:
        project = access_project_for_adjudication(user=request.user, slug=slug)
        disagreements_recompute(project=project, actor=request.user)
        return Response(
            {"status": "computing", "detail": "A worker is finding the disagreements; GET this address for them."},
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": request.path, "Retry-After": "3"},
        )


class AdjudicateApi(APIView):
    parser_classes = JSON_ONLY

    @extend_schema(
        request=AdjudicateIn,
        responses={
            201: GoldLabelOut,
            400: OpenApiResponse(description="A value does not fit the form, or the item has no reviews"),
            409: ConflictOut,
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        project = access_project_for_adjudication(user=request.user, slug=slug)
        payload = AdjudicateIn(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        is_task = data["item_type"] == "seed_task"
        item = access_item_for_adjudication(
            user=request.user,
            project=project,
            task_id=data["item_id"] if is_task else None,
            response_id=None if is_task else data["item_id"],
        )
        seed_task, response = (item, None) if is_task else (None, item)
        schema = schema_for_item(
            project=project,
            seed_task=seed_task,
            response=response,
            schema_id=str(data["schema_id"]) if data.get("schema_id") else None,
        )
        if schema is None:
            raise serializers.ValidationError({"schema_id": ["No such rating form in this project."]})
        try:
            gold = gold_label_adjudicate(
                project=project,
                schema=schema,
                seed_task=seed_task,
                response=response,
                adjudicator=request.user,
                values=data["values"],
                final_text=data["final_text"],
                reason=data["reason"],
                note=data["note"],
                expected_version=data["expected_version"],
            )
        except AdjudicationConflict as exc:
            return Response(
                {"detail": str(exc), "current": GoldLabelOut(exc.current).data if exc.current else None},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(GoldLabelOut(gold).data, status=status.HTTP_201_CREATED)
