"""Human-evaluation rounds: a frozen set of prompts, models and reviewers, and the judgments made in it.

A round is defined in `draft`, then frozen: freezing schedules every item and slot, and from then on
the definition cannot change (curation.services.rounds refuses). The reviewer sees a slot's
responses as "left" and "right" only; the slot keeps which response was where so that every vote
maps back to the model that wrote the answer.

Prompts, responses and schemas a round uses are RESTRICTed: they cannot be deleted on their own
while a round refers to them (the judgments would lose their meaning), only together with the
round's project.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from curation.models.projects import Project
from curation.models.responses import ModelResponse, Prompt
from curation.models.rubrics import RubricGrade
from curation.models.schemas import RatingSchema
from curation.schemas.definitions import prompt_rubric_field


class RoundMode(models.TextChoices):
    ABSOLUTE = "absolute", "Absolute: rate one response at a time"
    PAIRWISE = "pairwise", "Pairwise: compare two responses side by side"


class RoundQuestion(models.TextChoices):
    """What a round asks of its reviewers. Not a column: a round grades rubrics exactly when its form has a
    field grading the prompt's rubric (`EvaluationRound.grades_rubric`), which the rubric question's form is."""

    FORM = "form", "The project's rating form: the response form, or A/B questions side by side"
    RUBRIC = "rubric", "Each prompt's physician rubric: every criterion met or not met (absolute mode)"


class RoundPairing(models.TextChoices):
    ALL_PAIRS = "all_pairs", "Every pair of models"
    VS_REFERENCE = "vs_reference", "Each model against the reference"


class RoundStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    FROZEN = "frozen", "Frozen: judging open"
    CLOSED = "closed", "Closed"


class EvaluationRound(models.Model):
    """`compared_models` is a list of `{"name", "version"}`: the ModelResponse model names (and versions, ""
    when any version will do) compared. `seed` fixes the prompt sample and the side randomisation."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="evaluation_rounds")
    name = models.CharField(max_length=200)
    mode = models.CharField(max_length=16, choices=RoundMode.choices, default=RoundMode.PAIRWISE)
    pairing = models.CharField(max_length=16, choices=RoundPairing.choices, default=RoundPairing.ALL_PAIRS)
    schema = models.ForeignKey(RatingSchema, on_delete=models.RESTRICT, related_name="+")
    compared_models = models.JSONField(default=list)
    reference_model = models.CharField(max_length=200, blank=True)
    judgments_per_item = models.PositiveSmallIntegerField(default=2)
    reviewers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="evaluation_rounds", blank=True)
    seed = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=RoundStatus.choices, default=RoundStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    frozen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="round_name_unique_in_project"),
            models.CheckConstraint(condition=models.Q(judgments_per_item__gte=1), name="round_k_at_least_one"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def model_names(self) -> list[str]:
        return [m["name"] for m in self.compared_models]

    @property
    def is_pairwise(self) -> bool:
        return self.mode == RoundMode.PAIRWISE

    @property
    def grades_rubric(self) -> bool:
        """Whether judging grades each response against its prompt's accepted rubric (a leaderboard of
        rubric scores then joins the results)."""
        return prompt_rubric_field(self.schema.definition) is not None


class RoundPrompt(models.Model):
    round = models.ForeignKey(EvaluationRound, on_delete=models.CASCADE, related_name="round_prompts")
    prompt = models.ForeignKey(Prompt, on_delete=models.RESTRICT, related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["round", "prompt"], name="one_round_prompt")]

    def __str__(self) -> str:
        return f"{self.round} prompt {self.prompt_id}"


class RoundItem(models.Model):
    """What is judged: one response (absolute) or two responses to the same prompt (pairwise).

    In pairwise mode `response_a` is the response of the model named first in the round's model
    list; which one a reviewer sees on the left is decided per slot."""

    round = models.ForeignKey(EvaluationRound, on_delete=models.CASCADE, related_name="items")
    prompt = models.ForeignKey(Prompt, on_delete=models.RESTRICT, related_name="+")
    response_a = models.ForeignKey(ModelResponse, on_delete=models.RESTRICT, related_name="+")
    response_b = models.ForeignKey(ModelResponse, on_delete=models.RESTRICT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "response_a", "response_b"], name="one_round_item_per_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.round} item {self.pk}"


class RoundSlot(models.Model):
    """One scheduled judgment: a reviewer, an item, and the side each response is shown on."""

    round = models.ForeignKey(EvaluationRound, on_delete=models.CASCADE, related_name="slots")
    item = models.ForeignKey(RoundItem, on_delete=models.CASCADE, related_name="slots")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="round_slots")
    position = models.PositiveIntegerField(help_text="Order in the reviewer's queue")
    left_response = models.ForeignKey(ModelResponse, on_delete=models.RESTRICT, related_name="+")
    right_response = models.ForeignKey(
        ModelResponse, on_delete=models.RESTRICT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "reviewer"], name="one_slot_per_reviewer_per_item"),
        ]
        indexes = [models.Index(fields=["round", "reviewer", "position"])]

    def __str__(self) -> str:
        return f"{self.round} item {self.item_id} for {self.reviewer}"


class Judgment(models.Model):
    """A reviewer's submitted answers for one slot. Never edited: the service refuses a second one.

    `left_response`/`right_response` repeat the slot's sides so that the judgment alone says which
    model each answer came from."""

    round = models.ForeignKey(EvaluationRound, on_delete=models.CASCADE, related_name="judgments")
    slot = models.OneToOneField(RoundSlot, on_delete=models.RESTRICT, related_name="judgment")
    item = models.ForeignKey(RoundItem, on_delete=models.RESTRICT, related_name="judgments")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="judgments")
    left_response = models.ForeignKey(ModelResponse, on_delete=models.RESTRICT, related_name="+")
    right_response = models.ForeignKey(
        ModelResponse, on_delete=models.RESTRICT, null=True, blank=True, related_name="+"
    )
    answers = models.JSONField(default=dict)
    # The rubric grade the judgment recorded (or found final) when its form grades the prompt's rubric:
    # the marks the round's rubric leaderboard reads, on the rubric version judged.
    rubric_grade = models.ForeignKey(
        RubricGrade, on_delete=models.RESTRICT, null=True, blank=True, related_name="judgments"
    )
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "reviewer"], name="one_judgment_per_reviewer_per_item"),
        ]

    def __str__(self) -> str:
        return f"Judgment of {self.reviewer} on {self.round} item {self.item_id}"
