"""Rubric scoring: hand-computed fixtures for every rule, scikit-learn for the F1 and kappa, then bad input."""

import copy
import math

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score, f1_score

from curation.stats.rubrics import (
    NO_OTHER_PHYSICIAN,
    NO_POSITIVE_POINTS,
    NO_SCORES,
    Criterion,
    GradedResponse,
    RubricFormatError,
    balanced_f1,
    grader_agreement,
    grader_agreement_by_category,
    pair_agreement,
    parse_healthbench_row,
    parse_healthbench_rows,
    parse_meta_eval_row,
    parse_meta_eval_rows,
    response_score,
    rubric_report,
    set_score,
    tag_scores,
)


def crit(points, axis="accuracy", cluster=None, text="States the dose"):
    tags = ["level:cluster", f"cluster:{cluster}"] if cluster else ["level:example"]
    return {"criterion": text, "points": points, "tags": [*tags, f"axis:{axis}"]}


def hb_row(prompt_id="p1", rubrics=None, example_tags=("theme:emergency_referrals",)):
    return {
        "prompt": [
            {"role": "system", "content": "You are a careful clinician."},
            {"role": "user", "content": "My father has crushing chest pain and is sweating. What should I do?"},
        ],
        "prompt_id": prompt_id,
        "example_tags": list(example_tags),
        "rubrics": rubrics if rubrics is not None else [crit(5), crit(-4, "communication_quality")],
        "ideal_completions_data": None,
    }


def meta_row(labels, physicians, category="cluster:emergency_referrals_emergent", prompt_id=None):
    row = {
        "prompt": [{"role": "user", "content": "Is a headache after a fall something to worry about?"}],
        "completion": [{"role": "assistant", "content": "Seek urgent care if it worsens or you vomit."}],
        "rubric": "Advises urgent evaluation for red-flag symptoms after head injury.",
        "category": category,
        "binary_labels": list(labels),
        "anonymized_physician_ids": list(physicians),
    }
    if prompt_id:
        row["prompt_id"] = prompt_id
    return row


def criteria(*specs):
    return parse_healthbench_row(
        hb_row(rubrics=[crit(*s) if isinstance(s, tuple) else crit(s) for s in specs])
    ).criteria


# One response.


def test_met_negative_criterion_subtracts_from_the_points_achieved():
    cs = criteria(5, 3, -4)
    score = response_score(cs, [True, False, True])
    assert score.achieved == 1 and score.possible == 8
    assert score.value == pytest.approx(1 / 8)


def test_negative_criteria_do_not_count_towards_the_possible_points():
    cs = criteria(5, 3, -4)
    assert response_score(cs, [True, True, False]).value == 1.0
    assert response_score(cs, [True, True, True]).value == pytest.approx(4 / 8)


def test_a_response_score_is_not_clipped_below_zero():
    cs = criteria(5, 3, -4, -10)
    score = response_score(cs, [False, False, True, True])
    assert score.value == pytest.approx(-14 / 8)


def test_a_rubric_without_positive_points_leaves_the_response_undefined_with_the_reason():
    cs = criteria(-5, -2)
    score = response_score(cs, [True, False])
    assert score.value is None
    assert score.undefined == NO_POSITIVE_POINTS
    assert score.achieved == -5


def test_fractional_points_are_scored_exactly():
    cs = criteria(2.5, 0.5, -1.5)
    assert response_score(cs, [False, True, True]).value == pytest.approx(-1 / 3)


def test_met_flags_must_match_the_criteria_one_for_one():
    cs = criteria(5, 3)
    with pytest.raises(ValueError, match="1 met flags for 2 criteria"):
        response_score(cs, [True])
    with pytest.raises(ValueError, match="met flag 1 must be true or false"):
        response_score(cs, [True, 1])


# A set of responses.


def test_set_score_clips_the_mean_not_the_responses():
    # Clipping each response first would give (0 + 0.25) / 2 = 0.125.
    assert set_score([-0.5, 0.25], draws=200, seed=1).value == 0.0
    assert set_score([-0.5, 0.25, 0.5], draws=200, seed=1).value == pytest.approx(0.25 / 3)


def test_set_score_leaves_out_undefined_responses_and_counts_them():
    score = set_score([0.5, None, 0.25, None], draws=200, seed=1)
    assert score.value == pytest.approx(0.375)
    assert (score.n, score.n_undefined) == (2, 2)


def test_a_set_without_any_defined_score_is_undefined():
    score = set_score([None, None], draws=200, seed=1)
    assert score.value is None and score.std is None
    assert score.undefined == NO_SCORES and score.n_undefined == 2


def test_bootstrap_std_of_two_scores_matches_the_exact_resampling_distribution():
    # Resamples of [0, 1] have mean 0, 1/2, 1 with probability 1/4, 1/2, 1/4: standard deviation sqrt(1/8).
    score = set_score([0.0, 1.0], draws=40_000, seed=3)
    assert score.std == pytest.approx(math.sqrt(1 / 8), rel=0.02)
    assert (score.ci_low, score.ci_high) == (0.0, 1.0)


def test_bootstrap_is_of_the_clipped_mean():
    # Every resample of negative scores has a negative mean, clipped to 0: no spread at all.
    score = set_score([-0.5, -0.1, -0.3], draws=500, seed=3)
    assert (score.value, score.std, score.ci_low, score.ci_high) == (0.0, 0.0, 0.0, 0.0)


def test_bootstrap_std_is_close_to_the_standard_error_of_the_mean():
    x = np.random.default_rng(11).uniform(0, 1, 400)
    score = set_score(x.tolist(), draws=4000, seed=5)
    assert score.std == pytest.approx(x.std(ddof=1) / math.sqrt(x.size), rel=0.06)
    assert score.ci_low < score.value < score.ci_high


def test_bootstrap_is_reproducible_for_a_seed_and_moves_with_it():
    scores = np.random.default_rng(2).uniform(-0.2, 1, 60).tolist()
    first = set_score(scores, draws=300, seed=9)
    assert set_score(scores, draws=300, seed=9) == first
    other = set_score(scores, draws=300, seed=10)
    assert other.value == first.value and other.std != first.std


def test_set_score_rejects_a_nonsense_draw_count_or_score():
    with pytest.raises(ValueError, match="draws must be a whole number of at least 2"):
        set_score([0.5], draws=1)
    with pytest.raises(ValueError, match="finite number or None"):
        set_score([0.5, float("nan")], draws=10)


# Tags.


def _tag_fixture():
    # Row 1: overall (5 - 3) / (5 + 2) = 2/7. Row 2: overall (6 - 8) / (4 + 6) = -0.2. Row 3: only negative points.
    row1 = parse_healthbench_row(
        hb_row(
            "p1",
            [crit(5, "accuracy"), crit(-3, "communication_quality"), crit(2, "context_awareness", "seek_context")],
            ["theme:emergency_referrals"],
        )
    )
    row2 = parse_healthbench_row(
        hb_row("p2", [crit(4, "communication_quality"), crit(6, "accuracy"), crit(-8, "accuracy")], ["theme:hedging"])
    )
    row3 = parse_healthbench_row(hb_row("p3", [crit(-5, "completeness")], ["theme:emergency_referrals"]))
    return [
        GradedResponse.of(row1, [True, True, False]),
        GradedResponse.of(row2, [False, True, True]),
        GradedResponse.of(row3, [True]),
    ]


def test_each_tag_rescores_responses_on_its_own_criteria():
    scores = tag_scores(_tag_fixture(), draws=200, seed=1)
    # accuracy: row 1 5/5, row 2 (6 - 8)/6; the mean of 1 and -1/3.
    assert scores["axis:accuracy"].value == pytest.approx(1 / 3)
    assert scores["axis:accuracy"].n == 2
    assert scores["axis:context_awareness"].value == 0.0
    assert scores["cluster:seek_context"].value == 0.0
    assert scores["level:cluster"].value == 0.0
    # level:example: row 1 (5 - 3)/5 = 0.4, row 2 -0.2, row 3 undefined.
    assert scores["level:example"].value == pytest.approx(0.1)
    assert (scores["level:example"].n, scores["level:example"].n_undefined) == (2, 1)


def test_a_response_whose_tagged_criteria_have_no_positive_points_is_left_out_of_that_tag():
    scores = tag_scores(_tag_fixture(), draws=200, seed=1)
    # Row 1 has only a negative communication criterion; row 2's positive one was not met.
    assert scores["axis:communication_quality"].value == 0.0
    assert (scores["axis:communication_quality"].n, scores["axis:communication_quality"].n_undefined) == (1, 1)
    # No response has a positive completeness criterion.
    assert scores["axis:completeness"].value is None
    assert scores["axis:completeness"].undefined == NO_SCORES


def test_themes_take_the_overall_score_of_their_responses_and_are_clipped_as_sets():
    scores = tag_scores(_tag_fixture(), draws=200, seed=1)
    assert scores["theme:emergency_referrals"].value == pytest.approx(2 / 7)
    assert scores["theme:emergency_referrals"].n_undefined == 1
    assert scores["theme:hedging"].value == 0.0  # the only response scores -0.2


def test_rubric_report_gives_the_overall_set_score_and_every_tag():
    report = rubric_report(_tag_fixture(), draws=200, seed=1)
    assert report.overall.value == pytest.approx((2 / 7 - 0.2) / 2)
    assert (report.overall.n, report.overall.n_undefined) == (2, 1)
    assert list(report.by_tag) == sorted(report.by_tag)
    assert set(report.by_tag) == {
        "axis:accuracy",
        "axis:communication_quality",
        "axis:completeness",
        "axis:context_awareness",
        "cluster:seek_context",
        "level:cluster",
        "level:example",
        "theme:emergency_referrals",
        "theme:hedging",
    }


# Balanced F1 and agreement.


def test_balanced_f1_is_the_mean_of_the_f1_of_met_and_of_not_met():
    # met: tp 2, fp 0, fn 1 -> 4/5; not met: tp 1, fp 1, fn 0 -> 2/3.
    assert balanced_f1([True, True, True, False], [True, False, True, False]) == pytest.approx((4 / 5 + 2 / 3) / 2)


@pytest.mark.parametrize("seed", range(8))
def test_balanced_f1_equals_scikit_learns_macro_f1(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    truth = (rng.random(n) < rng.uniform(0.05, 0.95)).tolist()
    predicted = (rng.random(n) < rng.uniform(0.05, 0.95)).tolist()
    assert balanced_f1(truth, predicted) == pytest.approx(f1_score(truth, predicted, average="macro"))


@pytest.mark.parametrize(
    ("truth", "predicted"),
    [([True, True], [True, True]), ([False] * 3, [False] * 3), ([True, True], [False, False]), ([True], [False])],
)
def test_balanced_f1_with_one_class_missing_matches_scikit_learn(truth, predicted):
    expected = f1_score(truth, predicted, average="macro", zero_division=0)
    assert balanced_f1(truth, predicted) == pytest.approx(expected)


def test_balanced_f1_of_no_pairs_is_undefined():
    assert balanced_f1([], []) is None
    assert pair_agreement([], []).undefined["balanced_f1"]


@pytest.mark.parametrize("seed", range(5))
def test_cohen_kappa_and_percent_agreement_match_scikit_learn(seed):
    rng = np.random.default_rng(100 + seed)
    truth = (rng.random(80) < 0.6).tolist()
    predicted = [t if rng.random() < 0.7 else not t for t in truth]
    agreement = pair_agreement(truth, predicted)
    assert agreement.cohen_kappa == pytest.approx(cohen_kappa_score(truth, predicted))
    assert agreement.percent_agreement == pytest.approx(np.mean(np.array(truth) == np.array(predicted)))


def test_kappa_is_undefined_when_both_sides_give_one_label_throughout():
    agreement = pair_agreement([True] * 4, [True] * 4)
    assert agreement.cohen_kappa is None and "cohen_kappa" in agreement.undefined
    assert agreement.balanced_f1 == 1.0 and agreement.percent_agreement == 1.0


def _meta_fixture():
    rows = parse_meta_eval_rows(
        [
            meta_row([True, True, False], ["a", "b", "c"]),
            meta_row([False, False], ["a", "b"]),
            meta_row([True, False], ["a", "c"]),
            meta_row([True], ["b"]),
        ]
    )
    return rows, [True, False, False, True]


def test_grader_is_scored_against_every_physician_label_pooled():
    rows, grader = _meta_fixture()
    result = grader_agreement(rows, grader)
    # 8 pairs, 6 agree; met and not met both have tp 3, fp 1, fn 1; both sides say "met" half the time.
    assert result.grader.n_pairs == 8
    assert result.grader.percent_agreement == pytest.approx(0.75)
    assert result.grader.balanced_f1 == pytest.approx(0.75)
    assert result.grader.cohen_kappa == pytest.approx(0.5)
    truth = [label for row in rows for label in row.binary_labels]
    predicted = [g for row, g in zip(rows, grader, strict=True) for _ in row.binary_labels]
    assert result.grader.balanced_f1 == pytest.approx(f1_score(truth, predicted, average="macro"))


def test_each_physician_is_scored_against_the_other_physicians_on_shared_rows():
    rows, grader = _meta_fixture()
    result = grader_agreement(rows, grader)
    a, b, c = result.physicians["a"], result.physicians["b"], result.physicians["c"]
    # a: (other, a) pairs (T,T) (F,T) on row 1, (F,F) on row 2, (F,T) on row 3.
    assert (a.n_pairs, a.percent_agreement, a.balanced_f1) == (4, 0.5, 0.5)
    assert a.cohen_kappa == pytest.approx((0.5 - 0.375) / 0.625)
    # b: (T,T) (F,T) on row 1, (F,F) on row 2; row 4 b labelled alone.
    assert b.n_pairs == 3
    assert b.balanced_f1 == pytest.approx(2 / 3) and b.cohen_kappa == pytest.approx(0.4)
    # c said "not met" three times where the others said "met".
    assert (c.n_pairs, c.balanced_f1, c.cohen_kappa, c.percent_agreement) == (3, 0.0, 0.0, 0.0)


def test_the_physicians_spread_is_what_the_grader_is_compared_with():
    rows, grader = _meta_fixture()
    result = grader_agreement(rows, grader)
    f1 = result.physician_balanced_f1
    assert (f1.n, f1.median, f1.min) == (3, 0.5, 0.0)
    assert f1.max == pytest.approx(2 / 3)
    assert result.physician_cohen_kappa.median == pytest.approx(0.2)
    assert result.physicians_below_grader == 1.0


def test_a_physician_who_never_shares_a_row_has_no_agreement_and_no_place_in_the_spread():
    rows = parse_meta_eval_rows([meta_row([True, False], ["a", "b"]), meta_row([False], ["d"])])
    result = grader_agreement(rows, [True, False])
    d = result.physicians["d"]
    assert d.n_pairs == 0 and d.balanced_f1 is None
    assert d.undefined["balanced_f1"] == NO_OTHER_PHYSICIAN
    assert result.physician_balanced_f1.n == 2


def test_agreement_by_category_scores_each_category_on_its_own_rows():
    rows = parse_meta_eval_rows(
        [
            meta_row([True, True], ["a", "b"], category="cluster:hedging"),
            meta_row([False, True], ["a", "b"], category="cluster:emergency"),
            meta_row([True, False], ["a", "c"], category="cluster:hedging"),
        ]
    )
    grader = [True, True, False]
    by_category = grader_agreement_by_category(rows, grader)
    assert list(by_category) == ["cluster:emergency", "cluster:hedging"]
    assert by_category["cluster:hedging"] == grader_agreement([rows[0], rows[2]], [True, False])
    assert by_category["cluster:emergency"].grader.percent_agreement == 0.5


def test_grader_labels_must_be_one_boolean_per_row():
    rows, _ = _meta_fixture()
    with pytest.raises(ValueError, match="3 grader labels for 4 rows"):
        grader_agreement(rows, [True, False, True])
    with pytest.raises(ValueError, match=r"grader_labels\[1\] must be true or false"):
        grader_agreement(rows, [True, "no", True, True])


# Parsing and validation.


def test_a_healthbench_row_parses_into_typed_criteria():
    data = hb_row(rubrics=[crit(7, "completeness", "emergency_referrals_emergent"), crit(-10)])
    data["ideal_completions_data"] = {"ideal_completion": "Call emergency services now."}
    row = parse_healthbench_row(data)
    first = row.criteria[0]
    assert first == Criterion(
        text="States the dose",
        points=7,
        tags=("level:cluster", "cluster:emergency_referrals_emergent", "axis:completeness"),
    )
    assert (first.level, first.axis, first.cluster) == ("cluster", "completeness", "emergency_referrals_emergent")
    assert row.criteria[1].cluster is None
    assert row.prompt[1].role == "user"
    assert row.ideal_completions_data == {"ideal_completion": "Call emergency services now."}


def test_points_at_the_bounds_are_accepted():
    assert [c.points for c in criteria(10, -10, 0.5)] == [10, -10, 0.5]


def _set(path, value):
    def change(row):
        target = row
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _delete(path):
    def change(row):
        target = row
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        (_set(("rubrics", 1, "points"), 11), "rubrics[1].points", r"11 is outside \[-10, 10\]"),
        (_set(("rubrics", 1, "points"), -10.5), "rubrics[1].points", "outside"),
        (_set(("rubrics", 0, "points"), 0), "rubrics[0].points", "is 0"),
        (_set(("rubrics", 0, "points"), True), "rubrics[0].points", "must be a number, got bool"),
        (_set(("rubrics", 0, "points"), "5"), "rubrics[0].points", "must be a number, got str"),
        (_set(("rubrics", 0, "points"), float("inf")), "rubrics[0].points", "not a finite number"),
        (_delete(("rubrics", 0, "points")), "rubrics[0].points", "missing"),
        (_set(("rubrics", 0, "criterion"), "   "), "rubrics[0].criterion", "is empty"),
        (_delete(("rubrics", 1, "criterion")), "rubrics[1].criterion", "missing"),
        (_set(("rubrics", 0, "tags", 1), "axis:safety"), r"rubrics[0].tags[1]", "the axis is one of"),
        (_set(("rubrics", 0, "tags", 0), "level:prompt"), r"rubrics[0].tags[0]", "the level is one of"),
        (_set(("rubrics", 0, "tags", 1), "severity:high"), r"rubrics[0].tags[1]", "level:, axis: and cluster:"),
        (_set(("rubrics", 0, "tags", 1), "accuracy"), r"rubrics[0].tags[1]", "not of the shape 'kind:value'"),
        (_set(("rubrics", 0, "tags", 1), "cluster:"), r"rubrics[0].tags[1]", "not of the shape"),
        (_set(("rubrics", 0, "tags"), ["level:example"]), "rubrics[0].tags", "exactly one axis: tag, has 0"),
        (
            _set(("rubrics", 0, "tags"), ["level:example", "axis:accuracy", "axis:completeness"]),
            "rubrics[0].tags",
            "exactly one axis: tag, has 2",
        ),
        (
            _set(("rubrics", 0, "tags"), ["level:cluster", "axis:accuracy"]),
            "rubrics[0].tags",
            "needs its cluster: tag",
        ),
        (
            _set(("rubrics", 0, "tags"), ["level:example", "cluster:x", "axis:accuracy"]),
            "rubrics[0].tags",
            "cannot carry a cluster: tag",
        ),
        (_set(("rubrics",), []), "rubrics", "non-empty list of criteria"),
        (_delete(("rubrics",)), "rubrics", "missing"),
        (_set(("rubrics", 0), "criterion"), "rubrics[0]", "must be an object"),
        (_set(("example_tags",), ["emergency_referrals"]), "example_tags[0]", "not of the shape"),
        (_set(("example_tags",), ["theme:a", "theme:a"]), "example_tags", "lists a tag twice"),
        (_set(("prompt", 1, "role"), "doctor"), "prompt[1].role", "'doctor' is not one of"),
        (_delete(("prompt", 0, "content")), "prompt[0].content", "missing"),
        (_set(("prompt",), []), "prompt", "non-empty list of chat messages"),
        (_set(("ideal_completions_data",), "Call 911"), "ideal_completions_data", "must be an object or null"),
    ],
)
def test_a_bad_healthbench_row_is_rejected_naming_the_row_and_the_field(change, field, problem):
    rows = [hb_row("p1"), hb_row("p2")]
    change(rows[1])
    with pytest.raises(RubricFormatError, match=problem) as error:
        parse_healthbench_rows(rows)
    assert error.value.where == "row 2 (prompt_id 'p2')"
    assert error.value.field == field
    assert str(error.value).startswith(f"row 2 (prompt_id 'p2'), {field}: ")


def test_a_row_without_a_prompt_id_is_named_by_its_number():
    data = hb_row()
    del data["prompt_id"]
    with pytest.raises(RubricFormatError, match=r"^row 1, prompt_id: missing$"):
        parse_healthbench_rows([data])


def test_a_prompt_id_used_twice_names_both_rows():
    with pytest.raises(RubricFormatError, match=r"row 3 \(prompt_id 'p1'\), prompt_id: already used by row 1"):
        parse_healthbench_rows([hb_row("p1"), hb_row("p2"), hb_row("p1")])


def test_a_meta_eval_row_parses_with_a_text_completion_as_one_assistant_message():
    data = meta_row([True, False], ["ph1", "ph2"], prompt_id="m1")
    data["completion"] = "Seek urgent care."
    row = parse_meta_eval_row(data)
    assert row.completion[0].role == "assistant" and row.completion[0].content == "Seek urgent care."
    assert row.binary_labels == (True, False) and row.physician_ids == ("ph1", "ph2")
    assert row.prompt_id == "m1"


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        (_set(("binary_labels",), [True, 1]), "binary_labels[1]", "must be true or false, got 1"),
        (_set(("binary_labels",), []), "binary_labels", "non-empty list"),
        (_set(("anonymized_physician_ids",), ["a"]), "anonymized_physician_ids", "has 1 ids for 2 binary_labels"),
        (_set(("anonymized_physician_ids",), ["a", "a"]), "anonymized_physician_ids", "lists a physician twice"),
        (_set(("anonymized_physician_ids",), ["a", ""]), "anonymized_physician_ids[1]", "non-empty id"),
        (_delete(("category",)), "category", "missing"),
        (_set(("rubric",), ""), "rubric", "is empty"),
        (_delete(("completion",)), "completion", "missing"),
        (_set(("completion",), [{"role": "assistant"}]), "completion[0].content", "missing"),
    ],
)
def test_a_bad_meta_eval_row_is_rejected_naming_the_row_and_the_field(change, field, problem):
    rows = [meta_row([True, False], ["a", "b"], prompt_id="m1"), meta_row([True, False], ["a", "b"], prompt_id="m2")]
    change(rows[1])
    with pytest.raises(RubricFormatError, match=problem) as error:
        parse_meta_eval_rows(rows)
    assert (error.value.where, error.value.field) == ("row 2 (prompt_id 'm2')", field)


def test_parsing_does_not_change_the_input():
    data = hb_row()
    before = copy.deepcopy(data)
    parse_healthbench_row(data)
    assert data == before
