"""Preference pairs from a round's majority items: one plain dict per item, streamed from the database.

The items come from `curation.selectors.round_results.round_majority_items`, annotated with their votes for
response_a's and response_b's model; the side with more votes is the chosen answer.
"""

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from curation.models import RoundItem

PAIR_FIELDS = (
    "pk",
    "round_id",
    "round__name",
    "prompt_id",
    "prompt__external_id",
    "prompt__instruction",
    "prompt__input",
    "response_a_id",
    "response_a__model_name",
    "response_a__text",
    "response_b_id",
    "response_b__model_name",
    "response_b__text",
    "judgment_count",
    "votes_a",
    "votes_b",
)


def round_pair_rows(*, items: QuerySet[RoundItem], axis: str, chunk_size: int = 2000) -> Iterator[dict[str, Any]]:
    """Stream `round_majority_items` as preference pairs: plain dicts, one chunk of rows in memory at a time."""
    for row in items.values(*PAIR_FIELDS).iterator(chunk_size=chunk_size):
        a_wins = row["votes_a"] > row["votes_b"]
        chosen, rejected = ("response_a", "response_b") if a_wins else ("response_b", "response_a")
        votes_for, votes_against = (row["votes_a"], row["votes_b"]) if a_wins else (row["votes_b"], row["votes_a"])
        yield {
            "prompt": row["prompt__instruction"],
            "input": row["prompt__input"],
            "chosen": row[f"{chosen}__text"],
            "rejected": row[f"{rejected}__text"],
            "chosen_model": row[f"{chosen}__model_name"],
            "rejected_model": row[f"{rejected}__model_name"],
            "chosen_response_id": row[f"{chosen}_id"],
            "rejected_response_id": row[f"{rejected}_id"],
            "prompt_id": row["prompt_id"],
            "prompt_key": row["prompt__external_id"] or f"prompt-{row['prompt_id']}",
            "round_id": row["round_id"],
            "round": row["round__name"],
            "item_id": row["pk"],
            "axis": axis,
            "votes_for_chosen": votes_for,
            "votes_against_chosen": votes_against,
            "votes": row["judgment_count"],
        }
