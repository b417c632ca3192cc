"""Evaluation rounds over the API: a reviewer's next item and judgment (blind), a curator's results.

The item a reviewer receives names no model: answers come as "left" and "right" text only, with
no response id (ids could be looked up elsewhere), and the judgment returned says only which side
was chosen.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from curation.access import access_project, access_round, access_round_for_curation, access_round_slot
from curation.api.computations import ComputingOut, computing_response
from curation.api.parsers import JSON_ONLY
from curation.models import Judgment
from curation.selectors.rounds import round_next_slot, round_progress
from curation.services.round_results import round_results_latest
from curation.services.rounds import judgment_submit


class RoundPromptOut(serializers.Serializer):
    instruction = serializers.CharField()
    input = serializers.CharField()


class RoundSchemaOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.IntegerField()
    definition = serializers.JSONField()


class ProgressOut(serializers.Serializer):
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    left = serializers.IntegerField()


class JudgeItemOut(serializers.Serializer):
    """One scheduled item, blind: the prompt and the answers by side, never the models."""

    slot = serializers.IntegerField(source="pk")
    mode = serializers.CharField(source="round.mode")
    prompt = RoundPromptOut(source="item.prompt")
    left = serializers.CharField(source="left_response.text", help_text='Answer "A" (or the only answer)')
    right = serializers.CharField(
        source="right_response.text", allow_null=True, default=None, help_text='Answer "B" (pairwise mode)'
    )
    schema = RoundSchemaOut(source="round.schema")


class JudgeNextOut(serializers.Serializer):
    item = JudgeItemOut(allow_null=True)
    progress = ProgressOut()


class JudgmentIn(serializers.Serializer):
    slot = serializers.IntegerField()
    answers = serializers.DictField(
        child=serializers.JSONField(), help_text='Pairwise choices are "a" (left), "b" (right), "tie" or "both_bad"'
    )


class JudgmentOut(serializers.ModelSerializer):
    class Meta:
        model = Judgment
        fields = ["id", "slot", "answers", "submitted_at"]


class RoundResultsOut(serializers.Serializer):
    """The shapes inside are those of curation.stats.ranking (pairwise_results, absolute_scores) and
    curation.stats.agreement (agreement_report); a number that cannot be computed is null with a reason."""

    round = serializers.JSONField()
    progress = ProgressOut()
    judgments = serializers.IntegerField()
    axes = serializers.JSONField(help_text="Pairwise: one entry per axis with bradley_terry, win_rates and biases")
    scores = serializers.JSONField(help_text="Absolute: mean score per model and axis with its CI")
    by_difficulty = serializers.JSONField()
    agreement = serializers.JSONField()


class RoundJudgeNextApi(APIView):
    @extend_schema(responses=JudgeNextOut, summary="My next item to judge in a round (blind)")
    def get(self, request: Request, slug: str, round_id: int) -> Response:
        project = access_project(user=request.user, slug=slug)
        evaluation_round = access_round(user=request.user, project=project, round_id=round_id)
        slot = round_next_slot(evaluation_round=evaluation_round, reviewer=request.user)
        progress = round_progress(evaluation_round=evaluation_round, reviewer=request.user)
        return Response(JudgeNextOut({"item": slot, "progress": progress}).data)


class RoundJudgmentApi(APIView):
    parser_classes = JSON_ONLY

    @extend_schema(
        request=JudgmentIn,
        responses={
            201: JudgmentOut,
            200: OpenApiResponse(JudgmentOut, description="The same answers again: the judgment already made"),
            400: OpenApiResponse(
                description='Refused, by field: {"slot": [...]}, {"answers": {"<question>": [...]}} '
                'or {"non_field_errors": [...]} (e.g. the item was already judged otherwise)'
            ),
        },
        summary="Submit a judgment (idempotent; judgments are never changed)",
    )
    def post(self, request: Request, slug: str, round_id: int) -> Response:
        project = access_project(user=request.user, slug=slug)
        evaluation_round = access_round(user=request.user, project=project, round_id=round_id)
        data = JudgmentIn(data=request.data)
        data.is_valid(raise_exception=True)
        slot = access_round_slot(
            user=request.user, evaluation_round=evaluation_round, slot_id=data.validated_data["slot"]
        )
        judgment, created = judgment_submit(slot=slot, reviewer=request.user, answers=data.validated_data["answers"])
        return Response(JudgmentOut(judgment).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class RoundResultsApi(APIView):
    @extend_schema(
        responses={200: RoundResultsOut, 202: ComputingOut},
        summary="A round's results (curators and admins)",
        description="A worker computes them as judgments arrive: 202 with a `Location` to poll until the first are.",
    )
    def get(self, request: Request, slug: str, round_id: int) -> Response:
        project = access_project(user=request.user, slug=slug)
        evaluation_round = access_round_for_curation(user=request.user, project=project, round_id=round_id)
        # A worker computes them: 202 with where to poll until the first results are published.
        latest = round_results_latest(evaluation_round=evaluation_round)
        if latest.result is None:
            return computing_response(request, latest, what="the round's results", can_post=False)
        return Response(RoundResultsOut(latest.result).data)
