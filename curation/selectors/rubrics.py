"""Reads of rubrics: lists, the grading queue, graded responses, scores and clinician agreement.

Scores use curation.stats.rubrics. A response graded by several clinicians is scored on their
majority marks: a criterion counts as met when more than half of the clinicians who marked it say
so (a tie is "not met"). Judges and clinicians are never pooled: `source` picks one or the other.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import User
from curation.models import (
    ConsensusCriterion,
    Judge,
    ModelResponse,
    Project,
    Prompt,
    Rubric,
    RubricCriterion,
    RubricGrade,
    RubricMark,
    RubricSettings,
    RubricStatus,
    RubricVersion,
)
from curation.stats.agreement import agreement_report, ratings_from_rows
from curation.stats.rubrics import SEED, Criterion, GradedResponse, SetScore, rubric_report

CLINICIANS = "clinicians"


def rubrics_of(*, project: Project) -> QuerySet[Rubric]:
    return Rubric.objects.filter(project=project).select_related("prompt", "created_by", "reviewed_by")


def rubric_current_version(*, rubric: Rubric) -> RubricVersion:
    return rubric.versions.select_related("created_by").get(number=rubric.version)


def rubric_criteria(*, version: RubricVersion) -> list[RubricCriterion]:
    return list(version.criteria.order_by("order"))


def rubric_versions(*, rubric: Rubric) -> QuerySet[RubricVersion]:
    return rubric.versions.select_related("created_by").order_by("-number")


def consensus_library(*, project: Project) -> QuerySet[ConsensusCriterion]:
    return ConsensusCriterion.objects.filter(project=project)


def judges_of(*, project: Project) -> QuerySet[Judge]:
    return Judge.objects.filter(project=project)


def rubric_responses_to_grade(*, project: Project, grader: User) -> QuerySet[ModelResponse]:
    """Responses to prompts with an accepted rubric that the grader has not graded on its current version."""
    mine = RubricGrade.objects.filter(
        response=OuterRef("pk"), grader=grader, rubric_version__number=OuterRef("prompt__rubric__version")
    )
    return (
        ModelResponse.objects.filter(prompt__rubric__project=project, prompt__rubric__status=RubricStatus.ACCEPTED)
        .exclude(Exists(mine))
        .select_related("prompt__rubric")
        .order_by("prompt_id", "id")
    )


@dataclass(frozen=True)
class RubricToGrade:
    """What one grader marks one response against: the current version of its prompt's accepted rubric,
    whether the project shows graders the points, and the grader's own submitted grade on that version
    (`final`: criterion id -> met) when they already gave it, on any page. Never anyone else's marks."""

    version: RubricVersion
    criteria: list[RubricCriterion]
    show_points: bool
    grade: RubricGrade | None
    final: dict[int, bool] | None

    @property
    def graded_at(self) -> datetime | None:
        return self.grade.submitted_at if self.grade else None


def rubric_to_grade(*, response: ModelResponse | None, grader: User) -> RubricToGrade | None:
    """The accepted rubric `grader` marks `response` against, or None when its prompt has none (a response
    to a seed task, no rubric, or a rubric not accepted, e.g. back in review after an edit)."""
    if response is None or response.prompt_id is None:
        return None
    rubric = Rubric.objects.filter(prompt_id=response.prompt_id, status=RubricStatus.ACCEPTED).first()
    if rubric is None:
        return None
    version = RubricVersion.objects.get(rubric=rubric, number=rubric.version)
    show_points = (
        RubricSettings.objects.filter(project_id=rubric.project_id).values_list("show_points_to_graders", flat=True)
    ).first()
    grade = RubricGrade.objects.filter(
        response=response, rubric_version=version, grader=grader, submitted_at__isnull=False
    ).first()
    final = dict(grade.marks.values_list("criterion_id", "met")) if grade else None
    return RubricToGrade(
        version=version,
        criteria=list(version.criteria.order_by("order")),
        show_points=True if show_points is None else show_points,
        grade=grade,
        final=final,
    )


def stats_criterion(criterion: RubricCriterion) -> Criterion:
    return Criterion(text=criterion.text, points=float(criterion.points), tags=tuple(criterion.tags))


@dataclass(frozen=True)
class ResponseMarks:
    """One response's marks against one rubric version: criterion id -> {grader key: met}."""

    response: ModelResponse
    version: RubricVersion
    criteria: list[RubricCriterion]
    example_tags: tuple[str, ...]
    marks: dict[int, dict[str, bool]]

    def majority(self) -> tuple[bool, ...] | None:
        """Met where most graders say met; None unless every criterion has a mark."""
        flags = []
        for c in self.criteria:
            votes = list(self.marks.get(c.pk, {}).values())
            if not votes:
                return None
            flags.append(sum(votes) * 2 > len(votes))
        return tuple(flags)

    def graded(self) -> GradedResponse | None:
        met = self.majority()
        if met is None:
            return None
        return GradedResponse(
            criteria=tuple(stats_criterion(c) for c in self.criteria), met=met, example_tags=self.example_tags
        )


def grader_key(grade: RubricGrade) -> str:
    """Clinicians by user id, imported physicians by their pseudonym, judges by id: never confused."""
    if grade.grader_id:
        return f"user:{grade.grader_id}"
    if grade.physician:
        return f"physician:{grade.physician}"
    return f"judge:{grade.judge_id}"


def _grades(project: Project, source: str | Judge) -> QuerySet[RubricGrade]:
    grades = RubricGrade.objects.filter(rubric_version__rubric__project=project, submitted_at__isnull=False)
    if isinstance(source, Judge):
        return grades.filter(judge=source)
    return grades.filter(judge__isnull=True)


def response_marks(
    *, project: Project, source: str | Judge = CLINICIANS, within: QuerySet[RubricGrade] | None = None
) -> list[ResponseMarks]:
    """Marks of clinicians (users and imported physicians) or of one judge, per (response, version);
    `within` keeps only those grades (a round's)."""
    grades = _grades(project, source)
    if within is not None:
        grades = grades.filter(pk__in=within.values("pk"))
    marks = (
        RubricMark.objects.filter(grade__in=grades)
        .select_related("grade")
        .values_list("grade__response_id", "grade__rubric_version_id", "criterion_id", "met", "grade_id")
    )
    keys = {g.pk: grader_key(g) for g in grades.only("id", "grader_id", "physician", "judge_id")}
    table: dict[tuple[int, int], dict[int, dict[str, bool]]] = defaultdict(lambda: defaultdict(dict))
    for response_id, version_id, criterion_id, met, grade_id in marks:
        table[(response_id, version_id)][criterion_id][keys[grade_id]] = met
    if not table:
        return []
    responses = ModelResponse.objects.in_bulk({r for r, _ in table})
    versions = RubricVersion.objects.select_related("rubric").in_bulk({v for _, v in table})
    criteria: dict[int, list[RubricCriterion]] = defaultdict(list)
    for c in RubricCriterion.objects.filter(version_id__in=versions).order_by("version_id", "order"):
        criteria[c.version_id].append(c)
    return [
        ResponseMarks(
            response=responses[r],
            version=versions[v],
            criteria=criteria[v],
            example_tags=tuple(versions[v].rubric.example_tags),
            marks={c: dict(m) for c, m in table[(r, v)].items()},
        )
        for r, v in sorted(table)
    ]


@dataclass(frozen=True)
class ModelScores:
    model: str
    overall: SetScore
    by_tag: dict[str, SetScore]


def rubric_leaderboard(*, project: Project, source: str | Judge = CLINICIANS, draws: int = 1000) -> list[ModelScores]:
    """Per model: the clipped mean score with its bootstrap CI, and the same per axis, level, cluster and theme;
    best first (models without a defined score last)."""
    return leaderboard_of(response_marks(project=project, source=source), draws=draws)


def leaderboard_of(entries: Iterable[ResponseMarks], *, draws: int = 1000, seed: int = SEED) -> list[ModelScores]:
    """`rubric_leaderboard` over these marks: each fully marked response scored on its majority marks."""
    by_model: dict[str, list[GradedResponse]] = defaultdict(list)
    for entry in entries:
        graded = entry.graded()
        if graded is not None:
            by_model[entry.response.model_name].append(graded)
    board = []
    for model, graded in by_model.items():
        report = rubric_report(graded, draws=draws, seed=seed)
        board.append(ModelScores(model=model, overall=report.overall, by_tag=report.by_tag))
    return sorted(board, key=lambda s: (s.overall.value is None, -(s.overall.value or 0), s.model))


def leaderboard_tags(board: Iterable[ModelScores], prefix: str) -> list[str]:
    return sorted({tag for scores in board for tag in scores.by_tag if tag.startswith(prefix)})


def criterion_agreement(*, project: Project, draws: int = 1000, within: QuerySet[RubricGrade] | None = None) -> dict:
    """Agreement between clinicians on met / not met: Krippendorff's alpha (nominal) and percent agreement
    with bootstrap CIs, over every (response, criterion) and per axis and per criterion; `within` keeps
    only those grades (a round's)."""
    rows: dict[str, list[tuple]] = defaultdict(list)
    labels: dict[str, str] = {}
    for entry in response_marks(project=project, within=within):
        for c in entry.criteria:
            for grader, met in entry.marks.get(c.pk, {}).items():
                unit = (entry.response.pk, c.pk)
                rows["all"].append((unit, grader, met))
                rows[f"axis:{c.axis}"].append((unit, grader, met))
                rows[f"criterion:{c.pk}"].append((unit, grader, met))
                labels[f"criterion:{c.pk}"] = c.text
    out = {}
    for key, group in rows.items():
        table = ratings_from_rows(group, order=[False, True])
        report = agreement_report(table.matrix, "nominal", n_categories=2, draws=draws, pairs=False)
        out[key] = {
            "label": labels.get(key, key),
            "n_units": report["n_units"],
            "alpha": report["alpha"],
            "percent_agreement": report["percent_agreement"],
        }
    return out


def prompts_without_rubric(*, project: Project) -> QuerySet[Prompt]:
    return Prompt.objects.filter(project=project, rubric__isnull=True).order_by("id")
