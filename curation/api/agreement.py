"""Inter-annotator agreement over the API, for curators and admins (reviewers' answers stay blind)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from curation.access import access_project_agreement
from curation.api.computations import ComputingOut, computing_response
from curation.api.renderers import StoredJSON, StoredJSONRenderer
from curation.api.schema_annotations import extend_schema
from curation.services.agreement import project_agreement_latest_json, project_agreement_recompute


class AgreementApi(APIView):
    # The report is answered as stored, not decoded and encoded again (StoredJSON); the other renderers stay.
    renderer_classes = [
        StoredJSONRenderer,
        *(renderer for renderer in api_settings.DEFAULT_RENDERER_CLASSES if renderer is not JSONRenderer),
    ]

    @extend_schema(
        summary="The project's agreement report (curators and admins)",
        description=(
            "Per rating form and field, over items with two or more current reviews: Krippendorff's alpha at the "
            "field's level, percent agreement, Fleiss' kappa, Gwet's AC1 and Cohen's kappa for the 20 pairs of raters "
            "sharing the most items (`n_rater_pairs` counts them all), each with a 95% bootstrap interval; undefined "
            "values are null with the reason. Breakdowns by topic, view, "
            "task type, difficulty and rater. A worker computes it: this answers the last report, with "
            "`computed_at`, `stale` (reviews arrived since) and `computing` (a new one is on its way), or 202 with "
            "a `Location` to poll while the first one is computed. A POST queues a new computation."
        ),
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="The report (the JSON of `manage.py agreement --project`) with `stale` and `computing`",
            ),
            202: ComputingOut,
        },
    )
    def get(self, request: Request, slug: str) -> Response:
        project = access_project_agreement(user=request.user, slug=slug)
        latest = project_agreement_latest_json(project=project)
        if latest.result is None:
            return computing_response(request, latest, what="agreement")
        return Response(StoredJSON(latest.result, stale=latest.stale, computing=latest.computing))

    @extend_schema(
        summary="Queue a new computation of the project's agreement",
        request=None,
        responses={202: ComputingOut},
    )
    def post(self, request: Request, slug: str) -> Response:
        project = access_project_agreement(user=request.user, slug=slug)
        project_agreement_recompute(project=project)
        return Response(
            {"status": "computing", "detail": "A worker is computing agreement; GET this address for the result."},
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": request.path, "Retry-After": "3"},
        )
