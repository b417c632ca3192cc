"""Physician rubrics (HealthBench-style) for test prompts, the grades given against them, and judges.

A rubric belongs to one prompt. Its criteria live in versions: an edit writes a new version with
its rationale and keeps the old one, so a grade always points at the criteria it was given on.
A grade is one grader's met / not met per criterion of one version for one model response; the
grader is a clinician (a user), a physician known only by a pseudonymous id (imported meta-eval
labels) or a judge. Judges are programs: their grades never count as clinicians'.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from curation.models.projects import Project
from curation.models.responses import ModelResponse, Prompt


class Axis(models.TextChoices):
    ACCURACY = "accuracy", "Accuracy"
    COMPLETENESS = "completeness", "Completeness"
    COMMUNICATION_QUALITY = "communication_quality", "Communication quality"
    CONTEXT_AWARENESS = "context_awareness", "Context awareness"
    INSTRUCTION_FOLLOWING = "instruction_following", "Instruction following"


class Level(models.TextChoices):
    EXAMPLE = "example", "Example (this prompt only)"
    CLUSTER = "cluster", "Cluster (consensus, shared)"


class RubricStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    ACCEPTED = "accepted", "Accepted"


class RubricSettings(models.Model):
    """Per-project choices for rubric grading. Hidden points keep graders from weighing the criteria."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="rubric_settings")
    show_points_to_graders = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"Rubric settings of {self.project}"


_POINTS_RANGE = models.Q(points__gte=-10, points__lte=10) & ~models.Q(points=0)


class ConsensusCriterion(models.Model):
    """A level:cluster criterion of the project's library, written once and reused across rubrics."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="consensus_criteria")
    cluster = models.CharField(max_length=200)
    text = models.TextField()
    points = models.SmallIntegerField()
    axis = models.CharField(max_length=32, choices=Axis.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["cluster", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "cluster", "text"], name="consensus_criterion_unique"),
            models.CheckConstraint(condition=_POINTS_RANGE, name="consensus_points_nonzero_within_10"),
        ]

    def __str__(self) -> str:
        return f"[{self.cluster}] {self.text[:60]}"


class Rubric(models.Model):
    """A prompt's rubric. `version` is the number of its current criteria version.

    `messages` keeps the prompt as chat messages and `example_tags` its themes, as read; `extra`
    keeps any other field of an imported row (ideal completions among them) so export loses nothing.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="rubrics")
    prompt = models.OneToOneField(Prompt, on_delete=models.CASCADE, related_name="rubric")
    messages = models.JSONField(default=list)
    example_tags = models.JSONField(default=list, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=RubricStatus.choices, default=RubricStatus.DRAFT)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["project", "status"])]

    def __str__(self) -> str:
        return f"Rubric for {self.prompt}"


class RubricVersion(models.Model):
    """One version of a rubric's criteria; earlier versions are kept with the grades given on them."""

    rubric = models.ForeignKey(Rubric, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    rationale = models.CharField(max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["rubric", "number"]
        constraints = [models.UniqueConstraint(fields=["rubric", "number"], name="one_rubric_version_number")]

    def __str__(self) -> str:
        return f"{self.rubric} v{self.number}"


class RubricCriterion(models.Model):
    """A criterion of one version. `tags` keeps the tag list in its imported order; level, axis and
    cluster are the same facts as columns. `category` is the meta-eval category of imported labels."""

    version = models.ForeignKey(RubricVersion, on_delete=models.CASCADE, related_name="criteria")
    order = models.PositiveIntegerField()
    text = models.TextField()
    points = models.SmallIntegerField()
    axis = models.CharField(max_length=32, choices=Axis.choices)
    level = models.CharField(max_length=16, choices=Level.choices, default=Level.EXAMPLE)
    cluster = models.CharField(max_length=200, blank=True)
    tags = models.JSONField(default=list)
    category = models.CharField(max_length=200, blank=True)
    consensus = models.ForeignKey(
        ConsensusCriterion, on_delete=models.SET_NULL, null=True, blank=True, related_name="uses"
    )

    class Meta:
        ordering = ["version", "order"]
        constraints = [
            models.UniqueConstraint(fields=["version", "order"], name="one_criterion_per_position"),
            models.CheckConstraint(condition=_POINTS_RANGE, name="criterion_points_nonzero_within_10"),
            models.CheckConstraint(
                condition=(models.Q(level="cluster") & ~models.Q(cluster=""))
                | (models.Q(level="example") & models.Q(cluster="")),
                name="criterion_cluster_iff_cluster_level",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.points:+d} {self.text[:60]}"


class Judge(models.Model):
    """An automatic grader (a model with its prompt), by name and version. Never a clinician."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="judges")
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "version"]
        constraints = [models.UniqueConstraint(fields=["project", "name", "version"], name="one_judge_per_version")]

    def __str__(self) -> str:
        return f"{self.name} {self.version}".strip()


class RubricGrade(models.Model):
    """One grader's marks on one response against one rubric version. Exactly one of `grader`
    (a clinician), `physician` (a pseudonymous imported physician) and `judge` is set.
    A grade is blind until `submitted_at`: before that only its grader sees it."""

    response = models.ForeignKey(ModelResponse, on_delete=models.CASCADE, related_name="rubric_grades")
    rubric_version = models.ForeignKey(RubricVersion, on_delete=models.CASCADE, related_name="grades")
    grader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="rubric_grades"
    )
    physician = models.CharField(max_length=200, blank=True)
    judge = models.ForeignKey(Judge, on_delete=models.CASCADE, null=True, blank=True, related_name="grades")
    submitted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(grader__isnull=False, physician="", judge__isnull=True)
                    | (models.Q(grader__isnull=True, judge__isnull=True) & ~models.Q(physician=""))
                    | models.Q(grader__isnull=True, physician="", judge__isnull=False)
                ),
                name="rubric_grade_has_one_grader",
            ),
            models.UniqueConstraint(
                fields=["response", "rubric_version", "grader"],
                condition=models.Q(grader__isnull=False),
                name="one_grade_per_clinician",
            ),
            models.UniqueConstraint(
                fields=["response", "rubric_version", "physician"],
                condition=~models.Q(physician=""),
                name="one_grade_per_physician",
            ),
            models.UniqueConstraint(
                fields=["response", "rubric_version", "judge"],
                condition=models.Q(judge__isnull=False),
                name="one_grade_per_judge",
            ),
        ]

    def __str__(self) -> str:
        return f"Grade of {self.response_id} by {self.grader or self.physician or self.judge}"


class RubricMark(models.Model):
    """Met or not met for one criterion in one grade."""

    grade = models.ForeignKey(RubricGrade, on_delete=models.CASCADE, related_name="marks")
    criterion = models.ForeignKey(RubricCriterion, on_delete=models.CASCADE, related_name="marks")
    met = models.BooleanField()

    class Meta:
        ordering = ["grade", "criterion__order"]
        constraints = [models.UniqueConstraint(fields=["grade", "criterion"], name="one_mark_per_criterion")]

    def __str__(self) -> str:
        return f"{'met' if self.met else 'not met'}: {self.criterion}"


class PairVerdict(models.TextChoices):
    FIRST = "a", "The answer shown first"
    SECOND = "b", "The answer shown second"
    TIE = "tie", "Tie"


class JudgeVote(models.Model):
    """A judge's pairwise verdict on two answers to one prompt, in the order the judge saw them (`first`,
    then `second`; "a" is the first). The same pair shown the other way round is a second vote, which is
    how a judge's position consistency is read. Judge votes live apart from round judgments, so they
    never enter a round's rankings, agreement, gold or releases."""

    judge = models.ForeignKey(Judge, on_delete=models.CASCADE, related_name="votes")
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="+")
    first = models.ForeignKey(ModelResponse, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(ModelResponse, on_delete=models.CASCADE, related_name="+")
    verdict = models.CharField(max_length=8, choices=PairVerdict.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["judge", "first", "second"], name="one_judge_vote_per_order"),
            models.CheckConstraint(condition=~models.Q(first=models.F("second")), name="judge_vote_two_answers"),
            models.CheckConstraint(condition=models.Q(verdict__in=["a", "b", "tie"]), name="judge_vote_verdict"),
        ]

    def __str__(self) -> str:
        return f"{self.judge}: {self.verdict} on {self.first_id} then {self.second_id}"
