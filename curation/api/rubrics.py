"""Rubrics over the API: a judge's verdicts in (curators and admins), grades by clinicians, blind."""

from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from curation.access import access_project, access_response_for_grading, access_rubric_results
from curation.api.parsers import JSON_ONLY
from curation.api.schema_annotations import extend_schema
from curation.models.rubrics import PairVerdict
from curation.selectors.rubrics import rubric_criteria, rubric_current_version
from curation.services.judges import judge_verdicts_import_rows
from curation.services.rubrics import rubric_grade_submit


class VerdictIn(serializers.Serializer):
    """A rubric verdict (criterion and `met`) or, with `verdict`, a pairwise vote on two answers in the
    order shown; the service names what a verdict lacks."""

    prompt_id = serializers.CharField(required=False)
    response_id = serializers.IntegerField(required=False, min_value=1)
    model = serializers.CharField(required=False)
    criterion_index = serializers.IntegerField(required=False, min_value=0)
    criterion = serializers.CharField(required=False)
    judge = serializers.CharField()
    judge_version = serializers.CharField(required=False, allow_blank=True, default="")
    met = serializers.BooleanField(required=False)
    item = serializers.IntegerField(required=False, min_value=1, help_text="a pairwise round item's id")
    response_a = serializers.IntegerField(required=False, min_value=1, help_text="the answer shown first")
    response_b = serializers.IntegerField(required=False, min_value=1, help_text="the answer shown second")
    model_a = serializers.CharField(required=False)
    model_b = serializers.CharField(required=False)
    verdict = serializers.ChoiceField(choices=PairVerdict.choices, required=False)
    swapped_verdict = serializers.ChoiceField(
        choices=PairVerdict.choices, required=False, help_text="the verdict on the same pair shown the other way round"
    )


class VerdictsIn(serializers.Serializer):
    verdicts = VerdictIn(many=True, allow_empty=False, min_length=1)


class VerdictsOut(serializers.Serializer):
    imported = serializers.IntegerField()


class JudgeVerdictsApi(APIView):
    parser_classes = JSON_ONLY

    @extend_schema(request=VerdictsIn, responses={201: VerdictsOut})
    def post(self, request: Request, slug: str) -> Response:
        project = access_rubric_results(user=request.user, slug=slug)
        payload = VerdictsIn(data=request.data)
        payload.is_valid(raise_exception=True)
        count = judge_verdicts_import_rows(project=project, rows=payload.validated_data["verdicts"])
        return Response(VerdictsOut({"imported": count}).data, status=status.HTTP_201_CREATED)


class CriterionOut(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.IntegerField()
    text = serializers.CharField()


class GradeItemOut(serializers.Serializer):
    """A response to grade, blind: its text and the rubric's criteria, not its model."""

    response_id = serializers.IntegerField()
    text = serializers.CharField(allow_blank=True)
    criteria = CriterionOut(many=True)


class GradeIn(serializers.Serializer):
    marks = serializers.DictField(child=serializers.BooleanField(), help_text="criterion id -> met")


class GradeOut(serializers.Serializer):
    id = serializers.IntegerField()
    response_id = serializers.IntegerField()
    rubric_version = serializers.IntegerField(source="rubric_version.number")


class RubricGradeApi(APIView):
    """GET: the response's text and criteria to grade, without the model's name or anyone's marks.
    POST: the grader's marks on every criterion; final once accepted."""

    parser_classes = JSON_ONLY

    @extend_schema(responses=GradeItemOut)
    def get(self, request: Request, slug: str, response_id: int) -> Response:
        project = access_project(user=request.user, slug=slug)
        response = access_response_for_grading(user=request.user, project=project, response_id=response_id)
        criteria = rubric_criteria(version=rubric_current_version(rubric=response.prompt.rubric))
        return Response(GradeItemOut({"response_id": response.pk, "text": response.text, "criteria": criteria}).data)

    @extend_schema(request=GradeIn, responses={201: GradeOut})
    def post(self, request: Request, slug: str, response_id: int) -> Response:
        project = access_project(user=request.user, slug=slug)
        response = access_response_for_grading(user=request.user, project=project, response_id=response_id)
        payload = GradeIn(data=request.data)
        payload.is_valid(raise_exception=True)
        marks = {}
        for key, met in payload.validated_data["marks"].items():
            if not str(key).isdigit():
                raise serializers.ValidationError({"marks": f"{key!r} is not a criterion id"})
            marks[int(key)] = met
        grade = rubric_grade_submit(response=response, grader=request.user, marks=marks)
        return Response(GradeOut(grade).data, status=status.HTTP_201_CREATED)
