from curation.models.adjudication import (
    AcceptanceAction,
    AcceptanceEvent,
    AcceptanceMode,
    AdjudicationSettings,
    DisagreementRule,
    GoldLabel,
    ReasonCode,
)
from curation.models.assignments import Assignment, AssignmentStatus
from curation.models.flags import BLOCKING_FLAG_KINDS, FLAG_ANSWER_FIELD, FlagKind, ItemFlag
from curation.models.imports import ImportFormat, ImportJob, ImportStatus
from curation.models.projects import Membership, Project, ReviewVisibility
from curation.models.releases import Release, ReleaseFormat, ReleaseStatus
from curation.models.responses import ModelResponse, Prompt
from curation.models.reviews import Review, ReviewDraft
from curation.models.rounds import (
    EvaluationRound,
    Judgment,
    RoundItem,
    RoundMode,
    RoundPairing,
    RoundPrompt,
    RoundSlot,
    RoundStatus,
)
from curation.models.rubrics import (
    Axis,
    ConsensusCriterion,
    Judge,
    Level,
    Rubric,
    RubricCriterion,
    RubricGrade,
    RubricMark,
    RubricSettings,
    RubricStatus,
    RubricVersion,
)
from curation.models.schemas import RatingSchema, SchemaTarget
from curation.models.seed_tasks import Difficulty, SeedTask, TaskSource, TaskStatus
from curation.models.vocabulary import VocabularyAlias, VocabularyKind, VocabularyTerm

__all__ = [
    "BLOCKING_FLAG_KINDS",
    "FLAG_ANSWER_FIELD",
    "AcceptanceAction",
    "AcceptanceEvent",
    "AcceptanceMode",
    "AdjudicationSettings",
    "Assignment",
    "AssignmentStatus",
    "Axis",
    "ConsensusCriterion",
    "Difficulty",
    "DisagreementRule",
    "EvaluationRound",
    "FlagKind",
    "GoldLabel",
    "ImportFormat",
    "ImportJob",
    "ImportStatus",
    "ItemFlag",
    "Judge",
    "Judgment",
    "Level",
    "Membership",
    "ModelResponse",
    "Project",
    "Prompt",
    "RatingSchema",
    "ReasonCode",
    "Release",
    "ReleaseFormat",
    "ReleaseStatus",
    "Review",
    "ReviewDraft",
    "ReviewVisibility",
    "RoundItem",
    "RoundMode",
    "RoundPairing",
    "RoundPrompt",
    "RoundSlot",
    "RoundStatus",
    "Rubric",
    "RubricCriterion",
    "RubricGrade",
    "RubricMark",
    "RubricSettings",
    "RubricStatus",
    "RubricVersion",
    "SchemaTarget",
    "SeedTask",
    "TaskSource",
    "TaskStatus",
    "VocabularyAlias",
    "VocabularyKind",
    "VocabularyTerm",
]
