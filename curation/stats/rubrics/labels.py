"""Agreement on binary 'criterion met' labels: balanced F1, Cohen's kappa, and a grader against physicians."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from curation.stats.lazy import lazy_module
from curation.stats.rubrics.rows import MetaEvalRow

# numpy and scipy load at the first computation, not at every process start (curation.stats.lazy).
np = lazy_module("numpy")

NO_PAIRS = "no pair of labels to compare"
NO_CHANCE_VARIATION = "both sides give one and the same label throughout, so chance agreement is total"
NO_OTHER_PHYSICIAN = "no row labelled by this physician has a label from another physician"


# Agreement on binary "criterion met" labels.


def _bool_array(values: Sequence[bool], name: str) -> np.ndarray:
    for i, v in enumerate(values):
        if not isinstance(v, bool | np.bool_):
            raise ValueError(f"{name}[{i}] must be true or false, got {v!r}")
    return np.asarray(values, dtype=bool)


def _f1(tp: int, fp: int, fn: int) -> float | None:
    denominator = 2 * tp + fp + fn
    return None if denominator == 0 else 2 * tp / denominator


def balanced_f1(truth: Sequence[bool], predicted: Sequence[bool]) -> float | None:
    """Mean of the F1 of "met" and the F1 of "not met" (macro F1 over the two classes).

    A class that neither side ever uses has no F1 and is left out of the mean, so two sides that
    agree on "met" throughout score 1; None when there are no pairs at all."""
    t = _bool_array(truth, "truth")
    p = _bool_array(predicted, "predicted")
    if t.shape != p.shape:
        raise ValueError(f"{t.size} truth labels but {p.size} predicted labels")
    met = _f1(int((t & p).sum()), int((~t & p).sum()), int((t & ~p).sum()))
    not_met = _f1(int((~t & ~p).sum()), int((t & ~p).sum()), int((~t & p).sum()))
    defined = [f for f in (met, not_met) if f is not None]
    return sum(defined) / len(defined) if defined else None


@dataclass(frozen=True)
class Agreement:
    """Agreement over pooled (truth, predicted) pairs; a None value has its reason in `undefined`."""

    n_pairs: int
    balanced_f1: float | None
    cohen_kappa: float | None
    percent_agreement: float | None
    undefined: dict[str, str] = field(default_factory=dict)


def pair_agreement(truth: Sequence[bool], predicted: Sequence[bool]) -> Agreement:
    t = _bool_array(truth, "truth")
    p = _bool_array(predicted, "predicted")
    if t.shape != p.shape:
        raise ValueError(f"{t.size} truth labels but {p.size} predicted labels")
    if t.size == 0:
        reasons = dict.fromkeys(("balanced_f1", "cohen_kappa", "percent_agreement"), NO_PAIRS)
        return Agreement(0, None, None, None, reasons)
    observed = float((t == p).mean())
    chance = float(t.mean() * p.mean() + (1 - t.mean()) * (1 - p.mean()))
    undefined = {}
    kappa = None
    if chance >= 1 - 1e-12:
        undefined["cohen_kappa"] = NO_CHANCE_VARIATION
    else:
        kappa = (observed - chance) / (1 - chance)
    return Agreement(int(t.size), balanced_f1(t.tolist(), p.tolist()), kappa, observed, undefined)


@dataclass(frozen=True)
class Spread:
    """Median, minimum and maximum of one metric over the `n` physicians for whom it is defined."""

    n: int
    median: float | None
    min: float | None
    max: float | None


def _spread(values: Iterable[float | None]) -> Spread:
    defined = [v for v in values if v is not None]
    if not defined:
        return Spread(0, None, None, None)
    return Spread(len(defined), statistics.median(defined), min(defined), max(defined))


@dataclass(frozen=True)
class GraderAgreement:
    """The grader against every physician label, and each physician against the other physicians.

    `physicians_below_grader` is the share of physicians with a defined balanced F1 strictly below the
    grader's: 1.0 means the grader agrees with physicians better than any one physician does."""

    grader: Agreement
    n_rows: int
    physicians: dict[str, Agreement]
    physician_balanced_f1: Spread
    physician_cohen_kappa: Spread
    physician_percent_agreement: Spread
    physicians_below_grader: float | None


def grader_agreement(rows: Sequence[MetaEvalRow], grader_labels: Sequence[bool]) -> GraderAgreement:
    """`grader_labels[i]` is the grader's "met" for `rows[i]`.

    Grader: pairs (physician's label, grader's label), one per physician label, pooled over rows.
    Physician p: pairs (q's label, p's label) for every other physician q on every row both labelled,
    pooled over rows; a row p labelled alone gives p no pairs. The other physicians play the part of
    truth, as the physicians do for the grader, so the two are measured the same way."""
    if len(grader_labels) != len(rows):
        raise ValueError(f"{len(grader_labels)} grader labels for {len(rows)} rows; one label per row")
    graded = _bool_array(grader_labels, "grader_labels")
    truth: list[bool] = []
    predicted: list[bool] = []
    pairs: dict[str, tuple[list[bool], list[bool]]] = {}
    for row, grader_label in zip(rows, graded.tolist(), strict=True):
        for label in row.binary_labels:
            truth.append(label)
            predicted.append(grader_label)
        for p, p_label in zip(row.physician_ids, row.binary_labels, strict=True):
            others_truth, own = pairs.setdefault(p, ([], []))
            for q, q_label in zip(row.physician_ids, row.binary_labels, strict=True):
                if q != p:
                    others_truth.append(q_label)
                    own.append(p_label)
    grader = pair_agreement(truth, predicted)
    physicians = {}
    for p, (t, own) in sorted(pairs.items()):
        agreement = pair_agreement(t, own)
        if agreement.n_pairs == 0:
            agreement = Agreement(0, None, None, None, dict.fromkeys(agreement.undefined, NO_OTHER_PHYSICIAN))
        physicians[p] = agreement
    f1s = [a.balanced_f1 for a in physicians.values() if a.balanced_f1 is not None]
    below = None
    if grader.balanced_f1 is not None and f1s:
        below = sum(f < grader.balanced_f1 for f in f1s) / len(f1s)
    return GraderAgreement(
        grader=grader,
        n_rows=len(rows),
        physicians=physicians,
        physician_balanced_f1=_spread(a.balanced_f1 for a in physicians.values()),
        physician_cohen_kappa=_spread(a.cohen_kappa for a in physicians.values()),
        physician_percent_agreement=_spread(a.percent_agreement for a in physicians.values()),
        physicians_below_grader=below,
    )


def grader_agreement_by_category(
    rows: Sequence[MetaEvalRow], grader_labels: Sequence[bool]
) -> dict[str, GraderAgreement]:
    """`grader_agreement` within each category of rows, sorted by category."""
    if len(grader_labels) != len(rows):
        raise ValueError(f"{len(grader_labels)} grader labels for {len(rows)} rows; one label per row")
    groups: dict[str, tuple[list[MetaEvalRow], list[bool]]] = defaultdict(lambda: ([], []))
    for row, label in zip(rows, grader_labels, strict=True):
        groups[row.category][0].append(row)
        groups[row.category][1].append(label)
    return {category: grader_agreement(r, g) for category, (r, g) in sorted(groups.items())}
