"""Reads of the judging screen: the reviewer's next slot.

The write (a reviewer's judgment) is curation.services.round_judging.judgment_submit.
"""

from django.db import connection, transaction

from accounts.models import User
from curation.models import EvaluationRound, RoundSlot, RoundStatus


def round_next_slot(*, evaluation_round: EvaluationRound, reviewer: User) -> RoundSlot | None:
    """The reviewer's first unjudged slot in queue order, or None when they are done.

    On PostgreSQL a slot whose submission is in flight (locked by `judgment_submit`) is skipped, so a
    second tab never opens the item the first tab is submitting."""
    if evaluation_round.status != RoundStatus.FROZEN:
        return None
    slots = RoundSlot.objects.filter(round=evaluation_round, reviewer=reviewer, judgment__isnull=True).order_by(
        "position", "pk"
    )
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            slot_id = slots.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True).first()
        else:
            slot_id = slots.values_list("pk", flat=True).first()
    if slot_id is None:
        return None
    return RoundSlot.objects.select_related("item__prompt", "left_response", "right_response", "round__schema").get(
        pk=slot_id
    )
