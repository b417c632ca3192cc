from .projects import Membership, Project
from .responses import ModelResponse, Prompt
from .reviews import Assignment, AssignmentStatus, Review
from .schemas import RatingSchema, SchemaTarget
from .tasks import Difficulty, SeedTask, TaskSource, TaskStatus
from .vocabulary import VocabularyAlias, VocabularyKind, VocabularyTerm

__all__ = [
    "Assignment",
    "AssignmentStatus",
    "Difficulty",
    "Membership",
    "ModelResponse",
    "Project",
    "Prompt",
    "RatingSchema",
    "Review",
    "SchemaTarget",
    "SeedTask",
    "TaskSource",
    "TaskStatus",
    "VocabularyAlias",
    "VocabularyKind",
    "VocabularyTerm",
]
