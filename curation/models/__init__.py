from .feedback import FlagKind, ItemFlag, ReviewDraft
from .imports import ImportFormat, ImportJob, ImportStatus
from .projects import Membership, Project, ReviewVisibility
from .responses import ModelResponse, Prompt
from .reviews import Assignment, AssignmentStatus, Review
from .schemas import RatingSchema, SchemaTarget
from .tasks import Difficulty, SeedTask, TaskSource, TaskStatus
from .vocabulary import VocabularyAlias, VocabularyKind, VocabularyTerm

__all__ = [
    "Assignment",
    "AssignmentStatus",
    "Difficulty",
    "FlagKind",
    "ImportFormat",
    "ImportJob",
    "ImportStatus",
    "ItemFlag",
    "Membership",
    "ModelResponse",
    "Project",
    "Prompt",
    "RatingSchema",
    "Review",
    "ReviewDraft",
    "ReviewVisibility",
    "SchemaTarget",
    "SeedTask",
    "TaskSource",
    "TaskStatus",
    "VocabularyAlias",
    "VocabularyKind",
    "VocabularyTerm",
]
