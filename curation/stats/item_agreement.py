"""Per-item agreement: how often the reviewers of one item gave the same answer. Pure Python, no Django.

For an item with two or more reviews, the mean over its scored fields of the share of reviewer
pairs whose answers agree exactly (a multiple choice compared as a set). Only reviewers who
answered a field count for it; fields answered fewer than twice are skipped. None with fewer than
two reviews or no field answered twice; rounded to 4 places.
"""

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

# The kinds of rating field compared; free text and rubrics have no exact agreement to count.
AGREEMENT_KINDS = ("ordinal_scale", "number", "single_choice", "multiple_choice")


def scored_keys(fields: Sequence[Mapping[str, Any]]) -> list[str]:
    """The keys of a form's fields that per-item agreement compares."""
    return [f["key"] for f in fields if f["kind"] in AGREEMENT_KINDS]


def item_agreement(
    reviews: Sequence[tuple[int, Mapping[str, Any]]], keys_by_schema: Mapping[int, Sequence[str]]
) -> float | None:
    """The agreement of one item's reviews, given as (schema id, answers); `keys_by_schema` maps a
    schema id to its scored keys (`scored_keys`).

    A release computes it for every task it writes: two answers (the common case) are compared
    directly rather than through the list of their pairs.
    """
    if len(reviews) < 2:
        return None
    if len(reviews) == 2 and reviews[0][0] == reviews[1][0]:
        return _two_on_one_form(reviews[0][1], reviews[1][1], keys_by_schema.get(reviews[0][0], ()))
    values: dict[str, list[Any]] = {}
    for schema_id, answers in reviews:
        for key in keys_by_schema.get(schema_id, ()):
            value = answers.get(key)
            if value is None or value == []:
                continue
            if isinstance(value, list):
                value = frozenset(value)  # a multiple choice is compared as a set
            answered = values.get(key)
            if answered is None:
                values[key] = [value]
            else:
                answered.append(value)
    shares = []
    for answered in values.values():
        if len(answered) == 2:
            shares.append(1.0 if answered[0] == answered[1] else 0.0)
        elif len(answered) > 2:
            pairs = list(combinations(answered, 2))
            shares.append(sum(1 for x, y in pairs if x == y) / len(pairs))
    return round(sum(shares) / len(shares), 4) if shares else None


def _two_on_one_form(first: Mapping[str, Any], second: Mapping[str, Any], keys: Sequence[str]) -> float | None:
    """item_agreement of two reviews made with the same form: the share of the fields both answered on
    which they agree (each such field's share is 1 or 0, so their mean is that share)."""
    answered = agreed = 0
    for key in keys:
        x, y = first.get(key), second.get(key)
        if x is None or x == [] or y is None or y == []:
            continue
        answered += 1
        if isinstance(x, list) or isinstance(y, list):
            agreed += _comparable(x) == _comparable(y)
        else:
            agreed += x == y
    return round(agreed / answered, 4) if answered else None


def _comparable(value: Any) -> Any:
    return frozenset(value) if isinstance(value, list) else value
