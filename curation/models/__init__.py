from .adjudication import (
    AcceptanceAction,
    AcceptanceEvent,
    AcceptanceMode,
    AdjudicationSettings,
    DisagreementRule,
    GoldLabel,
    ReasonCode,
)
from .exports import Release, ReleaseFormat, ReleaseStatus
from .feedback import FlagKind, ItemFlag, ReviewDraft
from .imports import ImportFormat, ImportJob, ImportStatus
from .projects import Membership, Project, ReviewVisibility
from .responses import ModelResponse, Prompt
from .reviews import Assignment, AssignmentStatus, Review
from .rounds import EvaluationRound, Judgment, RoundItem, RoundMode, RoundPairing, RoundPrompt, RoundSlot, RoundStatus
from .schemas import RatingSchema, SchemaTarget
from .tasks import Difficulty, SeedTask, TaskSource, TaskStatus
from .vocabulary import VocabularyAlias, VocabularyKind, VocabularyTerm

__all__ = [
    "AcceptanceAction",
    "AcceptanceEvent",
    "AcceptanceMode",
    "AdjudicationSettings",
    "Assignment",
    "AssignmentStatus",
    "Difficulty",
    "DisagreementRule",
    "EvaluationRound",
    "FlagKind",
    "GoldLabel",
    "ImportFormat",
    "ImportJob",
    "ImportStatus",
    "ItemFlag",
    "Judgment",
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
    "SchemaTarget",
    "SeedTask",
    "TaskSource",
    "TaskStatus",
    "VocabularyAlias",
    "VocabularyKind",
    "VocabularyTerm",
]
