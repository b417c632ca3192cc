"""Evaluation rounds over the API: a reviewer's next item and judgment (blind), a curator's results.

The item a reviewer receives names no model: answers come as "left" and "right" text only, with
no response id (ids could be looked up elsewhere), and the judgment returned says only which side
was chosen.
"""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from curation.access import (
    access_project,
    access_project_as_curator,
    access_round,
    access_round_for_curation,
    access_round_slot,
)
from curation.api.computations import ComputingOut, computing_response
from curation.api.parsers import JSON_ONLY
from curation.api.schema_annotations import extend_schema
from curation.models import EvaluationRound, Judgment, RoundMode, RoundPairing, RoundQuestion
from curation.selectors.round_judging import round_next_slot
from curation.selectors.rounds import round_progress
from curation.selectors.rubrics import rubric_to_grade
from curation.services.round_judging import judgment_submit
from curation.services.round_results import round_results_latest
from curation.services.rounds import round_create_by_names


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


class RubricCriterionOut(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    points = serializers.IntegerField(allow_null=True, help_text="null when the project hides points from graders")


class RubricToGradeOut(serializers.Serializer):
    """The accepted rubric the answer is graded on: mark every criterion by id, true (met) or false."""

    version = serializers.IntegerField()
    criteria = RubricCriterionOut(many=True)
    final = serializers.DictField(
        child=serializers.BooleanField(), allow_null=True, help_text="Your own marks if you already gave them: final"
    )


class JudgeNextOut(serializers.Serializer):
    item = JudgeItemOut(allow_null=True)
    progress = ProgressOut()
    rubric = RubricToGradeOut(
        allow_null=True, help_text="When the round grades rubrics and the answer's prompt has an accepted one"
    )


class JudgmentIn(serializers.Serializer):
    slot = serializers.IntegerField()
    answers = serializers.DictField(
        child=serializers.JSONField(), help_text='Pairwise choices are "a" (left), "b" (right), "tie" or "both_bad"'
    )


class JudgmentOut(serializers.ModelSerializer):
    class Meta:
        model = Judgment
        fields = ["id", "slot", "answers", "submitted_at"]


class RoundCreateIn(serializers.Serializer):
    """A round's definition as the setup page takes it; the service names what cannot be used."""

    name = serializers.CharField(max_length=200)
    mode = serializers.ChoiceField(choices=RoundMode.choices)
    question = serializers.ChoiceField(choices=RoundQuestion.choices, default=RoundQuestion.FORM)
    models = serializers.ListField(
        child=serializers.CharField(max_length=200), allow_empty=False, min_length=1, help_text="Model names compared"
    )
    reviewers = serializers.ListField(
        child=serializers.EmailField(), allow_empty=False, min_length=1, help_text="Members' emails"
    )
    judgments_per_item = serializers.IntegerField(min_value=1, max_value=20, default=2)
    reference_model = serializers.CharField(required=False, allow_blank=True, default="")
    pairing = serializers.ChoiceField(choices=RoundPairing.choices, default=RoundPairing.ALL_PAIRS)
    prompts = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        allow_null=True,
        default=None,
        help_text="Prompts by external id (or number); without it, every prompt all the models answered",
    )
    sample_size = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    seed = serializers.IntegerField(min_value=0, default=0)


class RoundOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    mode = serializers.CharField()
    grades_rubric = serializers.BooleanField()
    status = serializers.CharField()
    prompts = serializers.IntegerField(source="round_prompts.count")


class RoundCreateApi(APIView):
    parser_classes = JSON_ONLY

    @extend_schema(
        request=RoundCreateIn,
        responses={
            201: RoundOut,
            400: OpenApiResponse(description="Refused, by field (e.g. prompts without a rubric)"),
        },
        summary="Set up a draft round (curators and admins), as the setup page does",
    )
    def post(self, request: Request, slug: str) -> Response:
        project = access_project_as_curator(user=request.user, slug=slug)
        data = RoundCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        definition = dict(data.validated_data)
        evaluation_round: EvaluationRound = round_create_by_names(
            project=project,
            created_by=request.user,
            reviewer_emails=definition.pop("reviewers"),
            prompts=definition.pop("prompts"),
            **definition,
        )
        return Response(RoundOut(evaluation_round).data, status=status.HTTP_201_CREATED)


class RoundResultsOut(serializers.Serializer):
    """The shapes inside are those of curation.stats.ranking (pairwise_results, absolute_scores) and
    curation.stats.agreement (agreement_report); a number that cannot be computed is null with a reason."""

    round = serializers.JSONField()
    progress = ProgressOut()
    judgments = serializers.IntegerField()
    axes = serializers.JSONField(help_text="Pairwise: one entry per axis with bradley_terry, win_rates and biases")
    scores = serializers.JSONField(help_text="Absolute: mean score per model and axis with its CI")
    rubric = serializers.JSONField(
        allow_null=True,
        help_text="Rounds that grade rubrics: per model the rubric score with its 95% bootstrap interval, "
        "overall, by axis and by theme (curation.stats.rubrics SetScore); null otherwise",
    )
    by_difficulty = serializers.JSONField()
    agreement = serializers.JSONField()


class RoundJudgeNextApi(APIView):
    @extend_schema(responses=JudgeNextOut, summary="My next item to judge in a round (blind)")
    def get(self, request: Request, slug: str, round_id: int) -> Response:
        project = access_project(user=request.user, slug=slug)
        evaluation_round = access_round(user=request.user, project=project, round_id=round_id)
        slot = round_next_slot(evaluation_round=evaluation_round, reviewer=request.user)
        progress = round_progress(evaluation_round=evaluation_round, reviewer=request.user)
        rubric = None
        if slot is not None and evaluation_round.grades_rubric and not evaluation_round.is_pairwise:
            rubric = _rubric_out(rubric_to_grade(response=slot.left_response, grader=request.user))
        return Response(JudgeNextOut({"item": slot, "progress": progress, "rubric": rubric}).data)


def _rubric_out(to_grade) -> dict | None:
    if to_grade is None:
        return None
    return {
        "version": to_grade.version.number,
        "criteria": [
            {"id": c.pk, "text": c.text, "points": c.points if to_grade.show_points else None}
            for c in to_grade.criteria
        ],
        "final": {str(k): v for k, v in to_grade.final.items()} if to_grade.final is not None else None,
    }


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
