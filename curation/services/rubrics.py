"""Writes of rubrics: write, submit, accept, edit with a rationale; the consensus library; grades.

Every edit of a rubric's criteria is a new RubricVersion with its rationale; the old one stays with
the grades given on it. A rubric is accepted by a second clinician: anyone but the author of its
current version, who accepts it as it is or edits it with a rationale (which accepts their edit).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit.services import AuditAction, audit_record
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
from curation.schemas.definitions import clean_answers, prompt_rubric_field
from curation.selectors.rubrics import rubric_to_grade
from curation.stats.rubrics import AXES, MAX_POINTS

RATIONALE_MAX_LENGTH = 500


@dataclass(frozen=True)
class CriterionInput:
    """One criterion as an author writes it; `tags` may keep an imported tag order (else built)."""

    text: str
    points: int
    axis: str
    level: str = "example"
    cluster: str = ""
    tags: tuple[str, ...] = ()
    category: str = ""
    consensus_id: int | None = None

    def tag_list(self) -> list[str]:
        if self.tags:
            return list(self.tags)
        cluster = [f"cluster:{self.cluster}"] if self.level == "cluster" else []
        return [f"level:{self.level}", *cluster, f"axis:{self.axis}"]


@dataclass(frozen=True)
class RubricInput:
    messages: list[dict] = field(default_factory=list)
    example_tags: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)


def _check_criteria(criteria: Sequence[CriterionInput]) -> None:
    if not criteria:
        raise ValidationError({"criteria": "A rubric needs at least one criterion."})
    errors = {}
    for i, c in enumerate(criteria, start=1):
        where = f"criterion {i}"
        if not c.text.strip():
            errors[where] = "The criterion's text is empty."
        elif isinstance(c.points, bool) or not isinstance(c.points, int):
            errors[where] = f"Points must be a whole number, got {c.points!r}."
        elif c.points == 0 or abs(c.points) > MAX_POINTS:
            errors[where] = f"Points must be between -{MAX_POINTS} and {MAX_POINTS} and not 0 (got {c.points})."
        elif c.axis not in AXES:
            errors[where] = f"The axis must be one of {', '.join(AXES)} (got {c.axis!r})."
        elif c.level not in ("example", "cluster"):
            errors[where] = f"The level must be example or cluster (got {c.level!r})."
        elif (c.level == "cluster") != bool(c.cluster.strip()):
            errors[where] = "A consensus (cluster-level) criterion names its cluster; an example-level one does not."
    if not any(c.points > 0 for c in criteria if isinstance(c.points, int)) and not errors:
        errors["criteria"] = "At least one criterion must have positive points, or no response can score."
    if errors:
        raise ValidationError(errors)


def _check_rationale(rationale: str) -> str:
    rationale = rationale.strip()
    if not rationale:
        raise ValidationError({"rationale": "Say briefly why you made this edit."})
    if len(rationale) > RATIONALE_MAX_LENGTH:
        raise ValidationError({"rationale": f"Keep it to {RATIONALE_MAX_LENGTH} characters ({len(rationale)} now)."})
    return rationale


def _resolve_library(project: Project, criteria: Sequence[CriterionInput]) -> list[CriterionInput]:
    """A criterion picked from the library takes the library's text, points, axis and cluster."""
    picked = {c.consensus_id for c in criteria if c.consensus_id}
    library = ConsensusCriterion.objects.in_bulk(picked) if picked else {}
    resolved = []
    for c in criteria:
        if c.consensus_id:
            entry = library.get(c.consensus_id)
            if entry is None or entry.project_id != project.pk:
                raise ValidationError({"criteria": f"No consensus criterion {c.consensus_id} in this project."})
            c = CriterionInput(
                text=entry.text,
                points=entry.points,
                axis=entry.axis,
                level="cluster",
                cluster=entry.cluster,
                consensus_id=entry.pk,
            )
        resolved.append(c)
    return resolved


def _version_write(*, rubric: Rubric, number: int, criteria: Sequence[CriterionInput], author, rationale: str):
    version = RubricVersion.objects.create(rubric=rubric, number=number, rationale=rationale, created_by=author)
    rows = []
    for order, c in enumerate(criteria):
        consensus_id = c.consensus_id
        if c.level == "cluster" and consensus_id is None:
            consensus_id = consensus_criterion_ensure(
                project=rubric.project, cluster=c.cluster, text=c.text, points=c.points, axis=c.axis
            ).pk
        rows.append(
            RubricCriterion(
                version=version,
                order=order,
                text=c.text,
                points=c.points,
                axis=c.axis,
                level=c.level,
                cluster=c.cluster if c.level == "cluster" else "",
                tags=c.tag_list(),
                category=c.category,
                consensus_id=consensus_id,
            )
        )
    RubricCriterion.objects.bulk_create(rows)
    return version


def consensus_criterion_ensure(*, project: Project, cluster: str, text: str, points: int, axis: str):
    """The library entry for (cluster, text), created on first use; the first points and axis stay."""
    entry, _ = ConsensusCriterion.objects.get_or_create(
        project=project, cluster=cluster, text=text, defaults={"points": points, "axis": axis}
    )
    return entry


@transaction.atomic
def consensus_criterion_create(*, project: Project, cluster: str, text: str, points: int, axis: str):
    _check_criteria([CriterionInput(text=text, points=points, axis=axis, level="cluster", cluster=cluster)])
    if ConsensusCriterion.objects.filter(project=project, cluster=cluster, text=text).exists():
        raise ValidationError({"text": f"The library already has this criterion in cluster {cluster!r}."})
    return ConsensusCriterion.objects.create(project=project, cluster=cluster, text=text, points=points, axis=axis)


@transaction.atomic
def rubric_create(
    *,
    prompt: Prompt,
    author: User | None,
    criteria: Sequence[CriterionInput],
    row: RubricInput | None = None,
    status: str = RubricStatus.DRAFT,
) -> Rubric:
    """A rubric for a prompt that has none. `row` keeps an imported row's chat messages, tags and extras."""
    criteria = _resolve_library(prompt.project, criteria)
    _check_criteria(criteria)
    if Rubric.objects.filter(prompt=prompt).exists():
        raise ValidationError({"prompt": f"Prompt {prompt.external_id or prompt.pk} already has a rubric; edit it."})
    row = row or RubricInput()
    messages = row.messages or [{"role": "user", "content": prompt.instruction}]
    rubric = Rubric.objects.create(
        project=prompt.project,
        prompt=prompt,
        messages=messages,
        example_tags=list(row.example_tags),
        extra=dict(row.extra),
        status=status,
        created_by=author,
    )
    _version_write(rubric=rubric, number=1, criteria=criteria, author=author, rationale="written")
    return rubric


def _author_of_current(rubric: Rubric):
    return rubric.versions.get(number=rubric.version).created_by_id


@transaction.atomic
def rubric_edit(
    *, rubric_id: int, editor: User, expected_version: int, criteria: Sequence[CriterionInput], rationale: str
) -> Rubric:
    """A new version of the criteria, made on `expected_version`; the old version is kept.

    An edit by the reviewer of a rubric in review accepts their edit; an edit of an accepted rubric
    sends it back to review (a second clinician looks at the change)."""
    rationale = _check_rationale(rationale)
    rubric = Rubric.objects.select_for_update().select_related("project").get(pk=rubric_id)
    if rubric.version != expected_version:
        raise ValidationError(
            {"version": f"The rubric changed to version {rubric.version} meanwhile; reload it and edit again."}
        )
    criteria = _resolve_library(rubric.project, criteria)
    _check_criteria(criteria)
    reviewing = rubric.status == RubricStatus.IN_REVIEW and _author_of_current(rubric) != editor.pk
    rubric.version += 1
    _version_write(rubric=rubric, number=rubric.version, criteria=criteria, author=editor, rationale=rationale)
    if reviewing:
        rubric.status, rubric.reviewed_by = RubricStatus.ACCEPTED, editor
    elif rubric.status == RubricStatus.ACCEPTED:
        rubric.status, rubric.reviewed_by = RubricStatus.IN_REVIEW, None
    rubric.updated_at = timezone.now()
    rubric.save(update_fields=["version", "status", "reviewed_by", "updated_at"])
    return rubric


@transaction.atomic
def rubric_submit(*, rubric_id: int, author: User) -> Rubric:
    rubric = Rubric.objects.select_for_update().get(pk=rubric_id)
    if rubric.status != RubricStatus.DRAFT:
        raise ValidationError({"status": f"Only a draft goes to review; this rubric is {rubric.get_status_display()}."})
    rubric.status = RubricStatus.IN_REVIEW
    rubric.updated_at = timezone.now()
    rubric.save(update_fields=["status", "updated_at"])
    return rubric


@transaction.atomic
def rubric_accept(*, rubric_id: int, reviewer: User) -> Rubric:
    """A second clinician accepts the rubric as it is: never the author of its current version."""
    rubric = Rubric.objects.select_for_update().get(pk=rubric_id)
    if rubric.status != RubricStatus.IN_REVIEW:
        raise ValidationError(
            {"status": f"Only a rubric in review can be accepted; it is {rubric.get_status_display()}."}
        )
    if _author_of_current(rubric) == reviewer.pk:
        raise ValidationError(
            {"reviewer": "A second clinician accepts a rubric, not the author of its current version."}
        )
    rubric.status, rubric.reviewed_by = RubricStatus.ACCEPTED, reviewer
    rubric.updated_at = timezone.now()
    rubric.save(update_fields=["status", "reviewed_by", "updated_at"])
    audit_record(action=AuditAction.RUBRIC_ACCEPTED, target=rubric, actor=reviewer)
    return rubric


def rubric_settings_of(*, project: Project) -> RubricSettings:
    settings, _ = RubricSettings.objects.get_or_create(project=project)
    return settings


@transaction.atomic
def rubric_settings_update(*, project: Project, changed_by: User, show_points_to_graders: bool) -> RubricSettings:
    """Curators and admins choose whether graders see each criterion's points (hidden points keep graders
    from weighing criteria by their worth)."""
    if not changed_by.is_curator:
        raise PermissionDenied("Only curators and admins change how rubrics are graded.")
    settings = rubric_settings_of(project=project)
    before = {"show_points_to_graders": settings.show_points_to_graders}
    settings.show_points_to_graders = show_points_to_graders
    settings.save(update_fields=["show_points_to_graders"])
    audit_record(
        action=AuditAction.SETTINGS_CHANGED,
        target=settings,
        actor=changed_by,
        before=before,
        after={"show_points_to_graders": show_points_to_graders},
    )
    return settings


def _marks_write(grade: RubricGrade, criteria: Sequence[RubricCriterion], marks: Mapping[int, bool]) -> None:
    RubricMark.objects.bulk_create(
        [RubricMark(grade=grade, criterion=c, met=bool(marks[c.pk])) for c in criteria if c.pk in marks]
    )


@transaction.atomic
def rubric_grade_submit(
    *, response: ModelResponse, grader: User, marks: Mapping[int, bool], in_submission: bool = False
) -> RubricGrade:
    """A clinician's marks (criterion id -> met) on every criterion of the response's accepted rubric.

    Grades are final once submitted: grading is blind, so a grader who has since seen others' marks
    does not revise theirs. `in_submission`: the grade is given in a review or a judgment being submitted
    (rubric_form_answers), whose own audit event records it; otherwise the grade is an event of its own."""
    rubric = Rubric.objects.filter(prompt_id=response.prompt_id).first()
    if rubric is None or rubric.status != RubricStatus.ACCEPTED:
        raise ValidationError({"response": "This response's prompt has no accepted rubric to grade against."})
    version = rubric.versions.get(number=rubric.version)
    criteria = list(version.criteria.all())
    ids = {c.pk for c in criteria}
    unknown = sorted(set(marks) - ids)
    if unknown:
        raise ValidationError(
            {"marks": f"Criteria {unknown} are not in the current rubric (version {version.number})."}
        )
    missing = [c.order + 1 for c in criteria if c.pk not in marks]
    if missing:
        raise ValidationError({"marks": f"Mark every criterion; criteria {missing} have no mark."})
    if RubricGrade.objects.filter(response=response, rubric_version=version, grader=grader).exists():
        raise ValidationError({"response": "You have already graded this response; grades are final."})
    grade = RubricGrade.objects.create(
        response=response, rubric_version=version, grader=grader, submitted_at=timezone.now()
    )
    _marks_write(grade, criteria, marks)
    if not in_submission:  # a grade given in a review or judgment is in that submission's event
        audit_record(
            action=AuditAction.REVIEW_SUBMITTED,
            target=grade,
            actor=grader,
            project_id=rubric.project_id,
            after={"rubric_version": version.number, "marks": {str(c): bool(marks[c]) for c in sorted(marks)}},
        )
    return grade


def judge_ensure(*, project: Project, name: str, version: str) -> Judge:
    if not name.strip():
        raise ValidationError({"judge": "A judge needs a name."})
    judge, _ = Judge.objects.get_or_create(project=project, name=name.strip(), version=version.strip())
    return judge


def rubric_form_answers(
    *, definition: dict, answers: dict[str, Any], response: ModelResponse | None, grader: User
) -> tuple[dict[str, Any], RubricGrade | None]:
    """A rating form's answers checked against it (clean_answers), its prompt-rubric field (if it has one)
    recorded as `grader`'s grade of `response` through rubric_grade_submit, as the grading page records it,
    so scores, agreement per criterion and the judge panels count it. Returns the answers as a review or a
    judgment keeps them (that field as the ids of the criteria met) and the grade (None when not graded).

    Grades are final: a grader who already graded the response on this rubric version (on the grading
    page, in another round or an earlier review) keeps those marks; the field takes them when left empty,
    and different marks are refused. Errors are keyed by the field. Call inside the transaction that saves
    the review or judgment, so that a refused submission leaves no grade behind.
    """
    field = prompt_rubric_field(definition)
    if field is None:
        return clean_answers(definition, answers), None
    key = field["key"]
    to_grade = rubric_to_grade(response=response, grader=grader)
    answers = dict(answers)
    if to_grade is not None and to_grade.final is not None and answers.get(key) in (None, "", [], {}):
        answers[key] = {str(c): met for c, met in to_grade.final.items()}
    criteria = [c.pk for c in to_grade.criteria] if to_grade is not None else None
    cleaned = clean_answers(definition, answers, prompt_criteria=criteria)
    if key not in cleaned or to_grade is None or response is None:
        return cleaned, None
    marks = {int(c): met for c, met in cleaned[key].items()}
    if to_grade.final is not None:
        if marks != to_grade.final:
            when = to_grade.graded_at.strftime("%Y-%m-%d %H:%M") if to_grade.graded_at else "earlier"
            raise ValidationError(
                {key: f"keeps the marks you gave this response on {when}: rubric grades are final, so they stand."}
            )
        grade = to_grade.grade
    else:
        try:
            grade = rubric_grade_submit(response=response, grader=grader, marks=marks, in_submission=True)
        except ValidationError as exc:
            raise ValidationError({key: exc.messages}) from exc
    cleaned[key] = [str(c.pk) for c in to_grade.criteria if marks[c.pk]]
    return cleaned, grade
