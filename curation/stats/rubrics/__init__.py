"""Physician rubric scoring (HealthBench-style) and the agreement of a grader with physicians.

Pure Python and numpy, no Django. Everything here works on parsed, validated rows: parse first
(`parse_healthbench_row`, `parse_meta_eval_row` and their plural forms), then score. docs/rubrics.md
states the formulas; the short version:

- A response's score is the sum of the points of the criteria it meets (a met negative criterion
  subtracts) over the sum of the positive points of its rubric. It is not clipped: a response that
  meets only negative criteria scores below 0. It is undefined when the rubric has no positive points.
- A set's score is the mean of its defined response scores clipped to [0, 1]. Its standard deviation
  and 95% interval come from a seeded bootstrap of that clipped mean, so they are reproducible.
- A rubric tag (an axis, a level, a cluster) re-scores every response on the criteria carrying that
  tag; a response whose tagged criteria have no positive points is left out of that tag. An example
  tag (a theme) takes the overall score of the responses whose row carries it.
- A grader's agreement with physicians pools (physician label, grader label) pairs over rows and
  physicians. Each physician gets the same treatment against the others: for physician p, the pairs
  (label of another physician q, label of p) over every row both labelled, pooled over rows and
  every q. The spread of the physicians' values is what a grader's value is judged against.

A value that cannot be computed is None with the reason next to it; NaN never leaves this module.
"""

from curation.stats.rubrics.labels import (
    NO_CHANCE_VARIATION,
    NO_OTHER_PHYSICIAN,
    NO_PAIRS,
    Agreement,
    GraderAgreement,
    Spread,
    balanced_f1,
    grader_agreement,
    grader_agreement_by_category,
    pair_agreement,
)
from curation.stats.rubrics.rows import (
    AXES,
    LEVELS,
    MAX_POINTS,
    NO_POSITIVE_POINTS,
    ROLES,
    Criterion,
    HealthBenchRow,
    Message,
    MetaEvalRow,
    RubricFormatError,
    parse_criterion,
    parse_healthbench_row,
    parse_healthbench_rows,
    parse_meta_eval_row,
    parse_meta_eval_rows,
)
from curation.stats.rubrics.scores import (
    CONFIDENCE,
    DRAWS,
    NO_SCORES,
    SEED,
    GradedResponse,
    ResponseScore,
    RubricReport,
    SetScore,
    response_score,
    rubric_report,
    set_score,
    tag_scores,
)

__all__ = [
    "AXES",
    "CONFIDENCE",
    "DRAWS",
    "LEVELS",
    "MAX_POINTS",
    "NO_CHANCE_VARIATION",
    "NO_OTHER_PHYSICIAN",
    "NO_PAIRS",
    "NO_POSITIVE_POINTS",
    "NO_SCORES",
    "ROLES",
    "SEED",
    "Agreement",
    "Criterion",
    "GradedResponse",
    "GraderAgreement",
    "HealthBenchRow",
    "Message",
    "MetaEvalRow",
    "ResponseScore",
    "RubricFormatError",
    "RubricReport",
    "SetScore",
    "Spread",
    "balanced_f1",
    "grader_agreement",
    "grader_agreement_by_category",
    "pair_agreement",
    "parse_criterion",
    "parse_healthbench_row",
    "parse_healthbench_rows",
    "parse_meta_eval_row",
    "parse_meta_eval_rows",
    "response_score",
    "rubric_report",
    "set_score",
    "tag_scores",
]
