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

import numpy as np

from curation.stats.rubrics import CONFIDENCE, DRAWS, SEED, GraderAgreement, MetaEvalRow, grader_agreement

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
