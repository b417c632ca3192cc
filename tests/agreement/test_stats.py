"""Agreement coefficients: published worked examples first, then the libraries, then the edge cases."""

import json
import math
import tracemalloc

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss

from curation.stats.agreement import (
    LEVELS,
    NO_VARIATION,
    OUTLIER_MIN_UNITS,
    TOO_FEW_UNITS,
    AgreementBatch,
    agreement_report,
    alpha,
    bootstrap,
    rater_breakdown,
    ratings_from_arrays,
    ratings_from_rows,
    slice_breakdown,
)

NaN = np.nan
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section D: 4 observers x 12 units.
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, NaN, NaN, NaN],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NaN, 3],
        [NaN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NaN],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NaN],
    ]
).T  # units x raters
# Wikipedia, "Fleiss' kappa", worked example: 10 subjects x 14 raters, counts per category.
FLEISS_WIKIPEDIA = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def _from_counts(counts) -> np.ndarray:
    """Units x raters matrix whose row i holds counts[i][c] ratings of category c."""
    return np.array([[c for c, n in enumerate(row) for _ in range(n)] for row in counts], dtype=float)


def _from_table(table) -> np.ndarray:
    """Two raters' matrix from a contingency table: table[i][j] units rated i by the first, j by the second."""
    return np.array([[i, j] for i, row in enumerate(table) for j, n in enumerate(row) for _ in range(n)], dtype=float)


def _noisy_ratings(units=400, raters=3, seed=7, missing=0.15) -> np.ndarray:
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, 6, units)
    x = np.clip(truth[:, None] + rng.integers(-1, 2, (units, raters)), 1, 5).astype(float)
    x[rng.random((units, raters)) < missing] = NaN
    return x


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)]
)
def test_alpha_matches_krippendorff_2011_worked_example(level, published):
    report = agreement_report(KRIPPENDORFF_2011, level, draws=0)
    assert report["alpha"]["value"] == pytest.approx(published, abs=5e-4)
    assert report["n_units"] == 11  # unit 12 has one rating and cannot be paired


def test_percent_agreement_and_gwet_ac1_on_the_krippendorff_data():
    report = agreement_report(KRIPPENDORFF_2011, "nominal", draws=0)
    assert report["percent_agreement"]["value"] == pytest.approx(0.8182, abs=5e-5)
    assert report["gwet_ac1"]["value"] == pytest.approx(0.7754, abs=5e-5)


def test_cohen_kappa_of_the_textbook_two_by_two_table_is_0_40():
    report = agreement_report(_from_table([[20, 5], [10, 15]]), "nominal", draws=0)
    (pair,) = report["cohen_kappa"]
    assert pair["n_units"] == 50
    assert pair["unweighted"]["value"] == pytest.approx(0.40, abs=1e-9)


def test_fleiss_kappa_of_the_wikipedia_example_is_0_210():
    report = agreement_report(_from_counts(FLEISS_WIKIPEDIA), "nominal", draws=0, pairs=False)
    assert report["fleiss_kappa"]["value"] == pytest.approx(0.210, abs=5e-4)


@pytest.mark.parametrize("level", LEVELS)
def test_alpha_agrees_with_the_krippendorff_package_which_wants_raters_by_units(level):
    x = _noisy_ratings()
    ours = agreement_report(x, level, draws=0, pairs=False)["alpha"]["value"]
    # The package's trap: rows are raters, and the level defaults to interval.
    theirs = krippendorff.alpha(reliability_data=x.T, level_of_measurement=level)
    assert ours == pytest.approx(theirs, abs=1e-6)


def test_fleiss_kappa_agrees_with_statsmodels():
    x = _noisy_ratings(missing=0)
    table = np.stack([(x == v).sum(axis=1) for v in range(1, 6)], axis=1)
    ours = agreement_report(x, "nominal", draws=0, pairs=False)["fleiss_kappa"]["value"]
    assert ours == pytest.approx(statsmodels_fleiss(table), abs=1e-6)


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_kappa_per_pair_agrees_with_scikit_learn_over_the_units_both_rated(weights):
    x = _noisy_ratings()
    report = agreement_report(x, "ordinal", draws=0)
    labels = sorted(set(x[~np.isnan(x)]))
    for pair in report["cohen_kappa"]:
        a, b = pair["raters"]
        both = ~np.isnan(x[:, a]) & ~np.isnan(x[:, b])
        expected = cohen_kappa_score(x[both, a], x[both, b], labels=labels, weights=weights)
        assert pair[weights or "unweighted"]["value"] == pytest.approx(expected, abs=1e-6)
        assert pair["n_units"] == int(both.sum())


def test_with_max_pairs_kappa_is_given_for_the_pairs_sharing_the_most_units_with_the_same_values():
    x = _noisy_ratings()
    x[::3, 0] = np.nan  # rater 0 shares fewer units with everyone
    every = agreement_report(x, "ordinal", draws=0)
    kept = agreement_report(x, "ordinal", draws=0, max_pairs=2)
    assert every["n_rater_pairs"] == kept["n_rater_pairs"] == len(every["cohen_kappa"]) > 2
    most = sorted(every["cohen_kappa"], key=lambda pair: -pair["n_units"])[:2]
    assert sorted(kept["cohen_kappa"], key=lambda pair: pair["raters"]) == sorted(most, key=lambda pair: pair["raters"])
    assert kept["alpha"] == every["alpha"]


def test_nominal_fields_get_unweighted_cohen_kappa_only_and_ordinal_fields_get_no_ac1():
    nominal = agreement_report(KRIPPENDORFF_2011, "nominal", draws=0)
    ordinal = agreement_report(KRIPPENDORFF_2011, "ordinal", draws=0)
    assert set(nominal["cohen_kappa"][0]) == {"raters", "n_units", "unweighted"}
    assert {"linear", "quadratic"} <= set(ordinal["cohen_kappa"][0])
    assert "gwet_ac1" in nominal and "gwet_ac1" not in ordinal


def test_fleiss_kappa_is_undefined_with_the_reason_when_units_have_different_numbers_of_raters():
    fleiss = agreement_report(KRIPPENDORFF_2011, "nominal", draws=0)["fleiss_kappa"]
    assert fleiss["value"] is None
    assert "different numbers of ratings (2 to 4)" in fleiss["undefined"]


def test_identical_ratings_leave_alpha_undefined_but_percent_agreement_is_one():
    report = agreement_report(np.full((5, 3), 4.0), "ordinal")
    assert report["alpha"] == {
        "value": None,
        "ci_low": None,
        "ci_high": None,
        "n_units": 5,
        "undefined": "every rating has the same value, so there is no variation to agree on",
    }
    assert report["percent_agreement"]["value"] == 1.0


def test_fewer_than_two_units_with_two_ratings_leave_every_coefficient_undefined():
    x = np.array([[1, 2], [3, NaN], [NaN, 4]], dtype=float)
    report = agreement_report(x, "nominal")
    for name in ("alpha", "percent_agreement", "fleiss_kappa", "gwet_ac1"):
        assert report[name]["value"] is None
        assert report[name]["undefined"] == TOO_FEW_UNITS
    assert report["cohen_kappa"][0]["unweighted"]["undefined"] == "the two raters share fewer than two units"


def test_the_confidence_interval_contains_the_estimate_and_narrows_with_more_units():
    small = agreement_report(_noisy_ratings(units=60), "ordinal", pairs=False)["alpha"]
    large = agreement_report(_noisy_ratings(units=2000), "ordinal", pairs=False)["alpha"]
    for estimate in (small, large):
        assert estimate["ci_low"] <= estimate["value"] <= estimate["ci_high"]
    assert large["ci_high"] - large["ci_low"] < small["ci_high"] - small["ci_low"]


def test_the_bootstrap_is_deterministic_for_a_seed_and_changes_with_another():
    x = _noisy_ratings(units=100)
    first = agreement_report(x, "interval", seed=11)
    assert agreement_report(x, "interval", seed=11) == first
    assert agreement_report(x, "interval", seed=12)["alpha"]["ci_low"] != first["alpha"]["ci_low"]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(
    "x",
    [np.empty((0, 2)), np.full((3, 2), NaN), np.array([[1.0], [2.0]]), np.full((4, 2), 1.0), KRIPPENDORFF_2011],
    ids=["no units", "no ratings", "one rater", "one value", "published"],
)
def test_every_output_is_strict_json_without_nan_even_when_nothing_can_be_computed(x, level):
    outputs = [
        agreement_report(x, level, draws=50),
        rater_breakdown(x, level, draws=50),
        slice_breakdown(x, ["all"] * len(x), level, draws=50),
    ]
    json.dumps(outputs, allow_nan=False)


def test_a_rater_of_too_few_items_is_never_called_an_outlier_however_far_they_are():
    rng = np.random.default_rng(5)
    truth = rng.integers(1, 6, 40).astype(float)
    lonely = np.full(40, NaN)
    lonely[: OUTLIER_MIN_UNITS - 1] = 6 - truth[: OUTLIER_MIN_UNITS - 1]  # the opposite end of the scale, every time
    x = np.stack([truth, truth, np.clip(truth + rng.integers(-1, 2, 40), 1, 5), lonely], axis=1)

    rows = {row["rater"]: row for row in rater_breakdown(x, "ordinal", raters=["a", "b", "c", "lonely"], draws=50)}

    assert rows["lonely"]["n_units"] == OUTLIER_MIN_UNITS - 1
    assert rows["lonely"]["alpha_gain_without"] > 0.05
    assert rows["lonely"]["outlier"] is False
    lonely[OUTLIER_MIN_UNITS - 1] = 6 - truth[OUTLIER_MIN_UNITS - 1]
    x[:, 3] = lonely
    rows = {row["rater"]: row for row in rater_breakdown(x, "ordinal", raters=["a", "b", "c", "lonely"], draws=50)}
    assert rows["lonely"]["outlier"] is True


def test_each_rater_against_the_others_picks_out_the_rater_who_answers_at_random():
    rng = np.random.default_rng(3)
    truth = rng.integers(1, 6, 300).astype(float)
    x = np.stack([truth, truth, np.clip(truth + rng.integers(-1, 2, 300), 1, 5), rng.integers(1, 6, 300)], axis=1)
    rows = rater_breakdown(x, "ordinal", raters=["ana", "ben", "cy", "random"], draws=200)
    by_name = {row["rater"]: row for row in rows}
    assert [name for name, row in by_name.items() if row["outlier"]] == ["random"]
    assert by_name["random"]["agreement_with_others"]["value"] < by_name["ana"]["agreement_with_others"]["value"]
    assert by_name["random"]["alpha_gain_without"] > 0.05
    assert (
        by_name["ana"]["mean_distance_from_others"]["value"] < by_name["random"]["mean_distance_from_others"]["value"]
    )
    json.dumps(rows, allow_nan=False)


def test_slice_breakdown_reports_each_slice_on_its_own_units():
    rng = np.random.default_rng(5)
    truth = rng.integers(1, 6, 200).astype(float)
    agreed = np.stack([truth, truth, truth], axis=1)
    noisy = rng.integers(1, 6, (200, 3)).astype(float)
    x = np.concatenate([agreed, noisy])
    slices = ["easy"] * 200 + ["hard"] * 200
    by_slice = {row["slice"]: row for row in slice_breakdown(x, slices, "nominal", draws=200)}
    assert by_slice["easy"]["alpha"]["value"] == pytest.approx(1.0)
    assert by_slice["hard"]["alpha"]["value"] < 0.1
    assert by_slice["hard"]["n_units"] == 200


def test_long_rows_become_a_matrix_with_labels_coded_in_the_given_order():
    table = ratings_from_rows(
        [("q1", "ann", "minor"), ("q1", "bob", "major"), ("q2", "ann", "none"), ("q2", "bob", None)],
        order=["none", "minor", "major"],
    )
    assert table.units == ["q1", "q2"] and table.raters == ["ann", "bob"]
    assert table.matrix[0].tolist() == [1.0, 2.0]
    assert table.matrix[1, 0] == 0.0 and math.isnan(table.matrix[1, 1])


def test_long_rows_refuse_a_rater_rating_a_unit_twice_and_values_outside_the_order():
    with pytest.raises(ValueError, match="rated unit 'q1' more than once"):
        ratings_from_rows([("q1", "ann", 1), ("q1", "ann", 2)])
    with pytest.raises(ValueError, match=r"'severe'.*is not one of"):
        ratings_from_rows([("q1", "ann", "severe")], order=["none", "minor"])


def test_bad_arguments_are_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="level must be one of"):
        agreement_report(KRIPPENDORFF_2011, "cardinal")
    with pytest.raises(ValueError, match="ratio level needs non-negative"):
        agreement_report(np.array([[-1.0, 2.0], [3.0, 4.0]]), "ratio")
    with pytest.raises(ValueError, match="2 rater names for 4 columns"):
        agreement_report(KRIPPENDORFF_2011, raters=["a", "b"])


def _sparse_ratings(units, raters, per_unit, seed=4, levels=5):
    """Long rows of `units` units, each rated by `per_unit` raters drawn from `raters`, around a true value."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, levels + 1, units)
    who = np.argsort(rng.random((units, raters)), axis=1)[:, :per_unit]
    values = np.clip(truth[:, None] + rng.integers(-1, 2, (units, per_unit)), 1, levels)
    return np.repeat(np.arange(units), per_unit), who.ravel(), values.ravel().astype(float)


@pytest.mark.parametrize("level", LEVELS)
def test_alpha_without_each_rater_is_alpha_recomputed_on_the_other_raters_ratings(level):
    x = _noisy_ratings(units=60, raters=5, missing=0.4)
    x[:3, 4] = 9.0  # the last rater alone gives a value: without them there is one value fewer
    x[3:6, 0], x[3:6, 1] = NaN, 9.0  # units left with one rating once their other rater is out
    rows = rater_breakdown(x, level, draws=0)
    for r, row in enumerate(rows):
        assert row["alpha_without"] == alpha(np.delete(x, r, axis=1), level, draws=0)["value"]


@pytest.mark.parametrize("level", LEVELS)
def test_alpha_without_a_rater_is_undefined_when_no_pair_or_no_variation_is_left(level):
    # Rater 2 is in every pair: without them no unit has two ratings.
    no_pairs = np.array([[1, NaN, 2], [NaN, 2, 2], [3, NaN, 1], [NaN, 1, NaN]], dtype=float)
    assert rater_breakdown(no_pairs, level, draws=0)[2]["alpha_without"] is None
    # Rater 0 gives every value but 2: without them there is nothing to disagree on.
    one_value = np.array([[1, 2, 2], [3, 2, 2], [NaN, 2, 2], [1, 2, 2]], dtype=float)
    rows = rater_breakdown(one_value, level, draws=0)
    assert rows[0]["alpha_without"] is None
    assert rows[1]["alpha_without"] is not None
    assert alpha(np.delete(one_value, 0, axis=1), level, draws=0)["undefined"] == NO_VARIATION


def test_a_table_of_ratings_gives_the_report_its_matrix_gives():
    unit, rater, value = _sparse_ratings(units=300, raters=12, per_unit=3)
    table = ratings_from_arrays(unit * 7 + 1, rater + 100, value)
    for level in ("nominal", "ordinal"):
        assert agreement_report(table, level, draws=40, max_pairs=5) == agreement_report(
            table.matrix, level, draws=40, max_pairs=5
        )
        assert rater_breakdown(table, level, draws=40) == rater_breakdown(table.matrix, level, draws=40)
        labels = np.arange(300) % 3
        assert slice_breakdown(table, labels, level, draws=40) == slice_breakdown(
            table.matrix, labels.tolist(), level, draws=40
        )


def test_arrays_become_a_table_in_the_order_units_and_raters_first_give_a_value():
    table = ratings_from_arrays(
        np.array([40, 40, 7, 7, 9]), np.array([3, 5, 5, 3, 3]), np.array([NaN, 2.0, 1.0, 0.0, 1.0])
    )
    assert table.units.tolist() == [40, 7, 9] and table.raters.tolist() == [5, 3]
    np.testing.assert_array_equal(table.matrix, [[2.0, NaN], [1.0, 0.0], [NaN, 1.0]])
    with pytest.raises(ValueError, match="rater 3 rated unit 7 more than once"):
        ratings_from_arrays(np.array([7, 7, 7]), np.array([3, 5, 3]), np.array([1.0, 2.0, 1.0]))


def test_many_raters_cost_their_ratings_not_a_units_by_raters_grid():
    # 40,000 items x 2,000 raters would be a 640 MB matrix of floats; the ratings are 120,000 entries.
    unit, rater, value = _sparse_ratings(units=40_000, raters=2_000, per_unit=3)
    table = ratings_from_arrays(unit, rater, value)
    tracemalloc.start()
    try:
        report = agreement_report(table, "ordinal", draws=10, max_pairs=20)
        rows = rater_breakdown(table, "ordinal", draws=10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 160 * 2**20
    assert report["n_ratings"] == 120_000 and len(report["cohen_kappa"]) == 20
    assert len(rows) == 2_000 and all(row["alpha_without"] is not None for row in rows)


def test_a_batch_gives_each_report_its_single_call_and_draws_the_weights_of_the_same_units_once(monkeypatch):
    unit, rater, value = _sparse_ratings(units=400, raters=9, per_unit=3)
    fields = [ratings_from_arrays(unit, rater, np.clip(value + shift, 1, 5)) for shift in (0, 1, -1)]
    labels = np.arange(400) % 4  # four slices of 100 items
    monkeypatch.setattr(bootstrap, "_MEMO_CELLS", 0)  # no remembered weights: count every generation
    generated = []
    chunks = bootstrap._chunks
    monkeypatch.setattr(bootstrap, "_chunks", lambda *args: generated.append(args) or chunks(*args))

    batch = AgreementBatch(draws=30, seed=9)
    asked = [
        (
            batch.agreement_report(table, "ordinal", max_pairs=4),
            batch.rater_breakdown(table, "ordinal"),
            batch.slice_breakdown(table, labels, "ordinal"),
        )
        for table in fields
    ]
    with pytest.raises(RuntimeError, match="call run"):
        asked[0][0]()
    batch.run()
    assert len(generated) == 2  # 400 items for the reports and breakdowns, 100 for every slice

    generated.clear()
    for table, (report, raters, slices) in zip(fields, asked, strict=True):
        assert report() == agreement_report(table, "ordinal", draws=30, seed=9, max_pairs=4)
        assert raters() == rater_breakdown(table, "ordinal", draws=30, seed=9)
        assert slices() == slice_breakdown(table, labels, "ordinal", draws=30, seed=9)
    assert len(generated) == 3 * 3  # alone, each call draws its own (a call's equal slices share theirs)
