"""What the API answers for a result a worker computes (agreement, disagreements) while there is none yet."""

from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from curation.selectors.computations import LatestResult


class ComputingOut(serializers.Serializer):
    status = serializers.ChoiceField(choices=["computing", "failed", "not computed"])
    detail = serializers.CharField()


def computing_response(request: Request, latest: LatestResult, *, what: str, can_post: bool = True) -> Response:
    """202 while the first result is computed (or when none could be): poll `Location` for it. `can_post`:
    the address queues a new computation on a POST (else a visit queues it)."""
    if latest.computing:
        body = {"status": "computing", "detail": f"A worker is computing {what}; ask again in a few seconds."}
    elif latest.error:
        retry = " POST to retry." if can_post else ""
        body = {"status": "failed", "detail": f"The last computation did not finish: {latest.error}.{retry}"}
    else:
        queue = " POST to queue it." if can_post else ""
        body = {"status": "not computed", "detail": f"{what.capitalize()} has not been computed yet.{queue}"}
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": request.path, "Retry-After": "3"})
