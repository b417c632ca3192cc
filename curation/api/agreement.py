"""Inter-annotator agreement over the API, for curators and admins (reviewers' answers stay blind)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from curation.access import access_project_agreement
from curation.services.agreement import project_agreement_get


class AgreementComputingOut(serializers.Serializer):
    status = serializers.ChoiceField(choices=["computing"])
    detail = serializers.CharField()


class AgreementApi(APIView):
    @extend_schema(
        summary="The project's agreement report (curators and admins)",
        description=(
            "Per rating form and field, over items with two or more current reviews: Krippendorff's alpha at the "
            "field's level, percent agreement, Fleiss' kappa, Cohen's kappa per rater pair and Gwet's AC1, each "
            "with a 95% bootstrap interval; undefined values are null with the reason. Breakdowns by topic, view, "
            "task type, difficulty and rater. A worker computes it: the answer is 202 until the "
            "report for the current reviews is ready."
        ),
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT, description="The report (the same JSON as `manage.py agreement --project`)"
            ),
            202: AgreementComputingOut,
        },
    )
    def get(self, request: Request, slug: str) -> Response:
        project = access_project_agreement(user=request.user, slug=slug)
        # Never computed in the request (inline_limit=0): a worker computes it, the caller polls the 202.
        report = project_agreement_get(project=project, inline_limit=0)
        if report is None:
            return Response(
                {"status": "computing", "detail": "A worker is computing agreement for the current reviews."},
                status=status.HTTP_202_ACCEPTED,
            )
        return Response(report)
