"""Reads of judges: a rubric judge's agreement with clinicians by criterion, axis and theme, and its
score gap; a pairwise judge's agreement with the clinicians' round votes and its biases.

Only (response, criterion) pairs that both the judge and at least one clinician marked count. The
clinicians' own leave-one-out figures on the same pairs are the ceiling a judge is read against.
A judge's votes are read here only: rounds, gold and releases never see them.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from curation.models import EvaluationRound, Judge, Project, RoundMode, RubricGrade
from curation.models.rubrics import JudgeVote
from curation.selectors.round_results import pairwise_axes, round_judgments, round_votes, verdict_for_models
from curation.selectors.rubrics import ResponseMarks, response_marks, stats_criterion
from curation.stats import ranking
from curation.stats.judges import (
    Interval,
    JudgeAgreement,
    PairwiseAgreement,
    judge_agreement,
    pairwise_agreement,
    score_gap,
    swap_flip_rate,
)
from curation.stats.ranking import PairwiseVote
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


# ------------------------------------------------------------------------------------------------
# Pairwise judges
# ------------------------------------------------------------------------------------------------

PAIR_AXIS = "overall"


@dataclass(frozen=True)
class PairwisePanel:
    """A pairwise judge against the clinicians' round votes on one axis, and the biases of both.

    `longer` and `first` are curation.stats.ranking's length and position bias reports (`longer_win_rate`,
    `left_win_share`, with intervals); for the judge "left" is the answer it was shown first."""

    axis: str
    votes: int
    agreement: PairwiseAgreement
    flip_rate: Interval
    judge_longer: dict
    judge_first: dict
    clinicians_votes: int
    clinicians_longer: dict
    clinicians_left: dict


def _in_pair_terms(winner_id: int | None, pair: tuple[int, int]) -> str:
    """A verdict on the pair (lower response id, higher), whatever order it was shown in."""
    if winner_id is None:
        return "tie"
    return "a" if winner_id == pair[0] else "b"


def _clinician_votes(project: Project, axis: str) -> tuple[dict[tuple[int, int], list[str]], list[PairwiseVote]]:
    """The clinicians' verdicts per pair of answers over every pairwise round of the project whose form
    has `axis` ("both bad" as a tie), and the same votes as the ranking statistics take them."""
    by_pair: dict[tuple[int, int], list[str]] = defaultdict(list)
    votes: list[PairwiseVote] = []
    for evaluation_round in EvaluationRound.objects.filter(project=project, mode=RoundMode.PAIRWISE):
        field = next((f for f in pairwise_axes(evaluation_round) if f["key"] == axis), None)
        if field is None:
            continue
        judgments = list(round_judgments(evaluation_round=evaluation_round))
        votes += round_votes(evaluation_round=evaluation_round, axis=axis, judgments=judgments)
        for judgment in judgments:
            verdict = verdict_for_models(judgment, field)
            if verdict is None:
                continue
            a, b = judgment.item.response_a_id, judgment.item.response_b_id
            winner = {"a": a, "b": b}.get(verdict)
            by_pair[(min(a, b), max(a, b))].append(_in_pair_terms(winner, (min(a, b), max(a, b))))
    return by_pair, votes


def _judge_votes(judge: Judge) -> list[JudgeVote]:
    return list(JudgeVote.objects.filter(judge=judge).select_related("prompt", "first", "second").order_by("id"))


def _as_ranking_vote(vote: JudgeVote) -> PairwiseVote:
    """The judge's vote as the ranking statistics take it: a is the first answer, shown on the "left"."""
    return PairwiseVote(
        prompt=vote.prompt.external_id or f"prompt-{vote.prompt_id}",
        model_a=f"response-{vote.first_id}",
        model_b=f"response-{vote.second_id}",
        winner=vote.verdict,
        length_a=float(len(vote.first.text)),
        length_b=float(len(vote.second.text)),
        a_side="left",
    )


def _axis_checked(project: Project, axis: str) -> str:
    """`axis` when one of the project's pairwise rounds asks it, else a ValidationError naming the ones asked."""
    known: dict[str, None] = {}
    rounds = EvaluationRound.objects.filter(project=project, mode=RoundMode.PAIRWISE).select_related("schema")
    for evaluation_round in rounds.order_by("id"):
        known.update(dict.fromkeys(field["key"] for field in pairwise_axes(evaluation_round)))
    if axis not in known:
        where = f"the axes are {', '.join(known)}" if known else f"{project.slug} has no pairwise rounds"
        raise ValidationError({"axis": f"no pairwise round of {project.slug} asks {axis!r}; {where}."})
    return axis


def pairwise_judge_panel(
    *, project: Project, judge: Judge, axis: str | None = None, draws: int = 1000
) -> PairwisePanel:
    """The judge's agreement with the clinicians on the pairs both voted on, its position-swap flip rate
    and its share of votes for the longer and for the first-shown answer, beside the clinicians' shares
    for the longer and the left answer over all their votes on `axis`.

    An axis asked for must be a question of one of the project's pairwise rounds (a ValidationError
    naming the ones there are): a misspelt axis would otherwise read as no clinician votes at all.
    Without one the panel reads `overall`, unchecked, so a project whose rounds ask other questions, or
    that has no rounds yet, still shows the judge's own flip rate and biases.
    """
    axis = PAIR_AXIS if axis is None else _axis_checked(project, axis)
    clinicians, clinician_votes = _clinician_votes(project, axis)
    mine: dict[tuple[int, int], dict[bool, str]] = defaultdict(dict)
    votes = _judge_votes(judge)
    for vote in votes:
        pair = (min(vote.first_id, vote.second_id), max(vote.first_id, vote.second_id))
        winner = {"a": vote.first_id, "b": vote.second_id}.get(vote.verdict)
        mine[pair][vote.first_id == pair[0]] = _in_pair_terms(winner, pair)
    items = [(clinicians[pair], list(shown.values())) for pair, shown in mine.items() if pair in clinicians]
    swapped = [(shown[True], shown[False]) for shown in mine.values() if len(shown) == 2]
    judge_votes = [_as_ranking_vote(v) for v in votes]
    return PairwisePanel(
        axis=axis,
        votes=len(votes),
        agreement=pairwise_agreement(items, draws=draws),
        flip_rate=swap_flip_rate(swapped, draws=draws),
        judge_longer=ranking.length_bias(judge_votes, draws=draws),
        judge_first=ranking.position_bias(judge_votes, draws=draws),
        clinicians_votes=len(clinician_votes),
        clinicians_longer=ranking.length_bias(clinician_votes, draws=draws),
        clinicians_left=ranking.position_bias(clinician_votes, draws=draws),
    )


def judge_kinds(*, project: Project) -> dict[int, set[str]]:
    """Per judge id, "rubric" when it has grades and "pairwise" when it has votes."""
    kinds: dict[int, set[str]] = defaultdict(set)
    for judge_id in RubricGrade.objects.filter(judge__project=project).values_list("judge_id", flat=True).distinct():
        kinds[judge_id].add("rubric")
    for judge_id in JudgeVote.objects.filter(judge__project=project).values_list("judge_id", flat=True).distinct():
        kinds[judge_id].add("pairwise")
    return kinds
