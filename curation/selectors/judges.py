"""Reads of judges: a judge's agreement with clinicians by criterion, axis and theme, and its score gap.

Only (response, criterion) pairs that both the judge and at least one clinician marked count. The
clinicians' own leave-one-out figures on the same pairs are the ceiling a judge is read against.
"""

from collections import defaultdict
from dataclasses import dataclass

from curation.models import Judge, Project
from curation.selectors.rubrics import ResponseMarks, response_marks, stats_criterion
from curation.stats.judges import Interval, JudgeAgreement, judge_agreement, score_gap
from curation.stats.rubrics import MetaEvalRow, response_score

OVERALL = "overall"


@dataclass(frozen=True)
class PanelRow:
    group: str
    label: str
    agreement: JudgeAgreement
    gap: Interval | None


def _score(entry: ResponseMarks, met: tuple[bool, ...], prefix: str | None) -> float | None:
    pairs = [(c, m) for c, m in zip(entry.criteria, met, strict=True) if prefix is None or f"axis:{c.axis}" == prefix]
    if not pairs:
        return None
    return response_score([stats_criterion(c) for c, _ in pairs], [m for _, m in pairs]).value


def _judge_flags(entry: ResponseMarks) -> tuple[bool, ...] | None:
    if any(c.pk not in entry.marks for c in entry.criteria):
        return None
    return tuple(next(iter(entry.marks[c.pk].values())) for c in entry.criteria)


def _gaps(pairs: list[tuple[ResponseMarks, ResponseMarks]], draws: int) -> dict[str, Interval]:
    """Score gaps overall, per axis and per theme, over responses fully marked by the judge and the clinicians."""
    scores: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for judged, clinicians in pairs:
        judge_met, clinician_met = _judge_flags(judged), clinicians.majority()
        if judge_met is None or clinician_met is None:
            continue
        groups = [(OVERALL, None)] + [(f"axis:{c.axis}", f"axis:{c.axis}") for c in judged.criteria]
        groups += [(tag, None) for tag in judged.example_tags if tag.startswith("theme:")]
        for group, prefix in dict(groups).items():
            j, c = _score(judged, judge_met, prefix), _score(clinicians, clinician_met, prefix)
            if j is not None and c is not None:
                scores[group][0].append(j)
                scores[group][1].append(c)
    return {group: score_gap(j, c, draws=draws) for group, (j, c) in scores.items()}


def judge_panel(*, project: Project, judge: Judge, draws: int = 1000) -> list[PanelRow]:
    """Rows overall, then per axis, per theme and per criterion, each with the judge's figures and CIs, the
    clinicians' leave-one-out spread and (except per criterion) the judge's score gap."""
    clinicians = {(e.response.pk, e.version.pk): e for e in response_marks(project=project)}
    rows: dict[str, tuple[list[MetaEvalRow], list[bool]]] = defaultdict(lambda: ([], []))
    labels = {OVERALL: "All criteria"}
    pairs = []
    for judged in response_marks(project=project, source=judge):
        theirs = clinicians.get((judged.response.pk, judged.version.pk))
        if theirs is None:
            continue
        pairs.append((judged, theirs))
        themes = [t for t in judged.example_tags if t.startswith("theme:")]
        for c in judged.criteria:
            judge_mark, marks = judged.marks.get(c.pk), theirs.marks.get(c.pk)
            if not judge_mark or not marks:
                continue
            row = MetaEvalRow(
                prompt=(),
                completion=(),
                rubric=c.text,
                category=c.axis,
                binary_labels=tuple(marks.values()),
                physician_ids=tuple(marks),
            )
            labels[f"criterion:{c.pk}"] = c.text
            for group in (OVERALL, f"axis:{c.axis}", *themes, f"criterion:{c.pk}"):
                rows[group][0].append(row)
                rows[group][1].append(next(iter(judge_mark.values())))
    gaps = _gaps(pairs, draws)
    order = {OVERALL: 0, "axis": 1, "theme": 2, "criterion": 3}
    keys = sorted(rows, key=lambda g: (order.get(g.split(":", 1)[0], 0), g))
    return [
        PanelRow(g, labels.get(g, g), judge_agreement(rows[g][0], rows[g][1], draws=draws), gaps.get(g)) for g in keys
    ]
