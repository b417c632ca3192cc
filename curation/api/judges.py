"""A judge's panel over the API: its rubric agreement by group and its pairwise panel (curators and admins)."""

from dataclasses import asdict

from django.http import Http404
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from curation.access import access_rubric_results
from curation.api.schema_annotations import extend_schema
from curation.selectors.judges import PAIR_AXIS, judge_panel, pairwise_judge_panel
from curation.selectors.rubrics import judges_of

MAX_DRAWS = 5000


class PanelQuery(serializers.Serializer):
    axis = serializers.CharField(
        required=False,
        help_text=f"a question of the project's pairwise rounds (default {PAIR_AXIS}); another is refused",
    )
    draws = serializers.IntegerField(required=False, default=1000, min_value=10, max_value=MAX_DRAWS)


class JudgePanelOut(serializers.Serializer):
    judge = serializers.CharField()
    rubric = serializers.ListField(child=serializers.DictField(), help_text="rows overall, by axis, theme, criterion")
    pairwise = serializers.DictField(allow_null=True, help_text="null when the judge has no pairwise votes")


class JudgePanelApi(APIView):
    """GET: the judge's figures with bootstrap intervals. Rubric rows as the results page shows them; the
    pairwise panel against the clinicians' round votes on `axis`, with the judge's flip rate and shares
    of votes for the longer and the first answer beside the clinicians' longer and left shares."""

    @extend_schema(parameters=[PanelQuery], responses=JudgePanelOut)
    def get(self, request: Request, slug: str, judge_id: int) -> Response:
        project = access_rubric_results(user=request.user, slug=slug)
        judge = judges_of(project=project).filter(pk=judge_id).first()
        if judge is None:
            raise Http404("No such judge in this project")
        query = PanelQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        draws = query.validated_data["draws"]
        pairwise = None
        if judge.votes.exists():  # first: an unknown axis is refused before the rubric bootstraps run
            panel = pairwise_judge_panel(
                project=project, judge=judge, axis=query.validated_data.get("axis"), draws=draws
            )
            pairwise = asdict(panel)
        rubric = [asdict(row) for row in judge_panel(project=project, judge=judge, draws=draws)]
        return Response(JudgePanelOut({"judge": str(judge), "rubric": rubric, "pairwise": pairwise}).data)
