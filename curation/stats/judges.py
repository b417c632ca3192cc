"""A judge against clinicians on rubric criteria, with bootstrap intervals. Pure numpy, no Django.

Rows are `MetaEvalRow`s of curation.stats.rubrics (one criterion of one response, with each
clinician's label) and the judge gives one label per row. The point values and the clinicians'
leave-one-out ceiling are `grader_agreement`'s; this module adds percentile intervals for the judge's
balanced F1, Cohen's kappa and percent agreement by resampling rows, and the gap between the judge's
and the clinicians' mean response score by resampling responses. docs/rubrics.md has the formulas.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from curation.stats.lazy import lazy_module
from curation.stats.rubrics import CONFIDENCE, DRAWS, SEED, GraderAgreement, MetaEvalRow, grader_agreement

# numpy and scipy load at the first computation, not at every process start (curation.stats.lazy).
np = lazy_module("numpy")

METRICS = ("balanced_f1", "cohen_kappa", "percent_agreement")


@dataclass(frozen=True)
class Interval:
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int = 0


@dataclass(frozen=True)
class JudgeAgreement:
    """The judge's figures with intervals, beside `agreement` (point values and the clinicians' spread)."""

    agreement: GraderAgreement
    intervals: dict[str, Interval]


def _counts(rows: Sequence[MetaEvalRow], labels: Sequence[bool]) -> np.ndarray:
    """Per row: (met, met), (not met, met), (met, not met), (not met, not met) pairs of (clinician, judge)."""
    out = np.zeros((len(rows), 4))
    for i, (row, judge) in enumerate(zip(rows, labels, strict=True)):
        yes = sum(row.binary_labels)
        no = len(row.binary_labels) - yes
        out[i] = (yes, no, 0, 0) if judge else (0, 0, yes, no)
    return out


def _metrics(totals: np.ndarray) -> dict[str, np.ndarray]:
    """Every metric for each row of totals (draws x 4); NaN where undefined (never returned)."""
    tp, fp, fn, tn = totals.T
    n = totals.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1_met = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
        f1_not = np.where(2 * tn + fn + fp > 0, 2 * tn / (2 * tn + fn + fp), np.nan)
        balanced = np.nanmean(np.vstack([f1_met, f1_not]), axis=0)
        observed = (tp + tn) / n
        truth, predicted = (tp + fn) / n, (tp + fp) / n
        chance = truth * predicted + (1 - truth) * (1 - predicted)
        kappa = np.where(chance < 1 - 1e-12, (observed - chance) / (1 - chance), np.nan)
    return {"balanced_f1": balanced, "cohen_kappa": kappa, "percent_agreement": observed}


def _interval(point: float | None, draws: np.ndarray, n: int, confidence: float) -> Interval:
    defined = draws[np.isfinite(draws)]
    if point is None or defined.size < draws.size / 2:
        return Interval(point, n=n)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(defined, [tail, 100 - tail])
    return Interval(point, float(low), float(high), n)


def _weights(n: int, draws: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(draws)]).astype(float)


def judge_agreement(
    rows: Sequence[MetaEvalRow],
    judge_labels: Sequence[bool],
    *,
    draws: int = DRAWS,
    seed: int = SEED,
    confidence: float = CONFIDENCE,
) -> JudgeAgreement:
    agreement = grader_agreement(rows, judge_labels)
    if not rows:
        return JudgeAgreement(agreement, {m: Interval(None) for m in METRICS})
    boot = _metrics(_weights(len(rows), draws, seed) @ _counts(rows, judge_labels))
    point = {m: getattr(agreement.grader, m) for m in METRICS}
    n = agreement.grader.n_pairs
    return JudgeAgreement(agreement, {m: _interval(point[m], boot[m], n, confidence) for m in METRICS})


def score_gap(
    judge_scores: Sequence[float],
    clinician_scores: Sequence[float],
    *,
    draws: int = DRAWS,
    seed: int = SEED,
    confidence: float = CONFIDENCE,
) -> Interval:
    """Mean of (judge's score - clinicians' score) over responses both scored, with a bootstrap interval
    over responses. Positive: the judge is more generous than the clinicians."""
    if len(judge_scores) != len(clinician_scores):
        raise ValueError(f"{len(judge_scores)} judge scores for {len(clinician_scores)} clinician scores")
    if not judge_scores:
        return Interval(None)
    diff = np.asarray(judge_scores, dtype=float) - np.asarray(clinician_scores, dtype=float)
    boot = _weights(diff.size, draws, seed) @ diff / diff.size
    return _interval(float(diff.mean()), boot, diff.size, confidence)


# Pairwise judges: verdicts are in the pair's own terms, "a" (its first answer won), "b" or "tie", so a
# clinician's vote and a judge's vote on the same two answers compare whatever order each saw them in.
PAIR_LABELS = ("a", "b", "tie")


@dataclass(frozen=True)
class PairwiseAgreement:
    """A judge's votes against clinicians' on the same pairs of answers."""

    n_pairs: int
    n_items: int
    percent_agreement: Interval
    cohen_kappa: Interval


def _pair_counts(items: Sequence[tuple[Sequence[str], Sequence[str]]]) -> np.ndarray:
    """Per item, the 3 x 3 table (clinician label, judge label) of every clinician vote with every judge
    vote, flattened to 9 columns."""
    index = {label: n for n, label in enumerate(PAIR_LABELS)}
    out = np.zeros((len(items), 9))
    for i, (clinicians, judge) in enumerate(items):
        for c in clinicians:
            for j in judge:
                out[i, 3 * index[c] + index[j]] += 1
    return out


def _pair_metrics(totals: np.ndarray) -> dict[str, np.ndarray]:
    """Percent agreement and Cohen's kappa for each row of (draws x 9) tables; NaN where undefined."""
    tables = totals.reshape(-1, 3, 3)
    n = tables.sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = np.trace(tables, axis1=1, axis2=2) / n
        chance = np.einsum("bk,bk->b", tables.sum(axis=2), tables.sum(axis=1)) / n**2
        kappa = np.where(chance < 1 - 1e-12, (observed - chance) / (1 - chance), np.nan)
    return {"percent_agreement": observed, "cohen_kappa": kappa}


def pairwise_agreement(
    items: Sequence[tuple[Sequence[str], Sequence[str]]],
    *,
    draws: int = DRAWS,
    seed: int = SEED,
    confidence: float = CONFIDENCE,
) -> PairwiseAgreement:
    """`items`: per pair of answers, (the clinicians' verdicts, the judge's verdicts), each "a", "b" or "tie"
    in the pair's terms. Every (clinician vote, judge vote) on an item is one pair of labels; intervals
    resample items (an item keeps all its pairs). Cohen's kappa over three categories:
    (p_o - p_e) / (1 - p_e) with p_e = sum_k p_clinicians(k) p_judge(k)."""
    for clinicians, judge in items:
        for label in (*clinicians, *judge):
            if label not in PAIR_LABELS:
                raise ValueError(f"verdict {label!r} is not one of a, b, tie")
    counts = _pair_counts(items)
    n = int(counts.sum())
    if n == 0:
        return PairwiseAgreement(0, len(items), Interval(None), Interval(None))
    point = {k: float(v[0]) for k, v in _pair_metrics(counts.sum(axis=0, keepdims=True)).items()}
    point = {k: (v if np.isfinite(v) else None) for k, v in point.items()}
    boot = _pair_metrics(_weights(len(items), draws, seed) @ counts)
    intervals = {m: _interval(point[m], boot[m], n, confidence) for m in point}
    return PairwiseAgreement(n, len(items), intervals["percent_agreement"], intervals["cohen_kappa"])


def swap_flip_rate(
    pairs: Sequence[tuple[str, str]], *, draws: int = DRAWS, seed: int = SEED, confidence: float = CONFIDENCE
) -> Interval:
    """Share of pairs judged in both orders whose two verdicts, put back in the pair's terms, differ: the
    judge's verdict did not follow the swap (a judge that always picks the first answer flips every time).
    `pairs` holds the two verdicts in the pair's terms. The interval resamples pairs."""
    if not pairs:
        return Interval(None)
    flips = np.array([float(x != y) for x, y in pairs])
    boot = _weights(flips.size, draws, seed) @ flips / flips.size
    return _interval(float(flips.mean()), boot, flips.size, confidence)
