"""Per-item agreement, the pure statistic behind `metadata.agreement` and the minimum agreement filter."""

from curation.stats.item_agreement import item_agreement, scored_keys

FIELDS = [
    {"key": "accuracy", "kind": "ordinal_scale"},
    {"key": "verdict", "kind": "single_choice"},
    {"key": "problems", "kind": "multiple_choice"},
    {"key": "comment", "kind": "free_text"},
]
KEYS = {1: scored_keys(FIELDS)}


def test_free_text_is_not_compared():
    assert scored_keys(FIELDS) == ["accuracy", "verdict", "problems"]


def test_agreement_is_the_mean_over_fields_of_the_share_of_agreeing_pairs():
    reviews = [
        (1, {"accuracy": 4, "verdict": "a", "problems": ["x", "y"], "comment": "fine"}),
        (1, {"accuracy": 4, "verdict": "a", "problems": ["y", "x"], "comment": "good"}),
        (1, {"accuracy": 5, "verdict": "a", "comment": "great"}),
    ]

    # accuracy: 1 of 3 pairs agree; verdict: 3 of 3; problems (answered twice, as sets): 1 of 1.
    assert item_agreement(reviews, KEYS) == round((1 / 3 + 1 + 1) / 3, 4) == 0.7778


def test_one_review_or_no_field_answered_twice_has_no_agreement():
    assert item_agreement([(1, {"accuracy": 4})], KEYS) is None
    assert item_agreement([(1, {"accuracy": 4}), (1, {"verdict": "a"})], KEYS) is None
    assert item_agreement([(1, {"accuracy": 4}), (1, {"problems": []})], KEYS) is None


def test_a_review_on_a_form_with_no_scored_field_adds_nothing():
    reviews = [(1, {"accuracy": 2}), (1, {"accuracy": 3}), (2, {"accuracy": 2})]

    assert item_agreement(reviews, KEYS) == 0.0
