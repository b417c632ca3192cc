"""Inter-rater agreement with bootstrap confidence intervals, vectorised over units and draws.

Input is a `RatingsTable`, the ratings alone (unit, rater and value of each, never a units x raters
grid): `ratings_from_rows` builds one from long `(unit, rater, value)` rows, coding text labels in a
given order, and `ratings_from_arrays` from aligned arrays. A units x raters matrix of numbers with
NaN for "not rated" is taken too. Every coefficient is a function of per-unit sufficient statistics
(value counts, sums, coincidences), so a bootstrap draw is a vector of unit weights (how often each
unit was drawn) and all draws of a coefficient are a handful of matrix products: no Python loop over
draws or units. What concerns each rater (their match with the others, alpha without them, Cohen's
kappa of a pair) is a sum over that rater's own ratings, so the work and the memory grow with the
number of ratings, not with units x raters. `AgreementBatch` computes many reports together, so that
those over the same units generate their bootstrap draws once.

Coefficients and their conventions:

- Krippendorff's alpha at the nominal, ordinal, interval and ratio levels (Krippendorff 2011,
  "Computing Krippendorff's Alpha-Reliability"); only units with two or more ratings count.
- Percent agreement: per unit, the share of ordered pairs of ratings that agree, averaged over
  units with two or more ratings (the "pa" of Gwet's AC1).
- Fleiss' kappa: only when every unit with two or more ratings has the same number of them.
- Gwet's AC1 (nominal): chance agreement from category shares averaged over every rated unit.
- Cohen's kappa per pair of raters over the units both rated: unweighted, and linearly or
  quadratically weighted by category rank (as scikit-learn weights label positions).

The bootstrap resamples units (every unit with at least one rating) with a fixed seed and reports
the percentile interval. A value that cannot be computed is `value=None` with the reason in
`undefined`; NaN never leaves this module."""

from curation.stats.agreement.batch import AgreementBatch
from curation.stats.agreement.bootstrap import (
    CONFIDENCE,
    DRAWS,
    LEVELS,
    NO_VARIATION,
    OUTLIER_ALPHA_GAIN,
    OUTLIER_MIN_UNITS,
    SEED,
    TOO_FEW_UNITS,
    Estimate,
    RatingsTable,
    ratings_from_arrays,
    ratings_from_rows,
)
from curation.stats.agreement.breakdowns import rater_breakdown, slice_breakdown
from curation.stats.agreement.coefficients import alpha
from curation.stats.agreement.report import agreement_report

__all__ = [
    "CONFIDENCE",
    "DRAWS",
    "LEVELS",
    "NO_VARIATION",
    "OUTLIER_ALPHA_GAIN",
    "OUTLIER_MIN_UNITS",
    "SEED",
    "TOO_FEW_UNITS",
    "AgreementBatch",
    "Estimate",
    "RatingsTable",
    "agreement_report",
    "alpha",
    "rater_breakdown",
    "ratings_from_arrays",
    "ratings_from_rows",
    "slice_breakdown",
]
