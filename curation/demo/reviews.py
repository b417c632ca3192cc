"""Submitted demo reviews from three more demo clinicians, so the demo's agreement page has figures.

Development only. The answers are deterministic (seeded by each item's reference) and plausible: the
reviewers share a view of each item and drift from it now and then, one of them more often, so the
page shows real disagreement and a reviewer who stands out. The demo clinician's own queue (the
first five tasks) is left untouched.
"""

import random

from django.db import transaction

from accounts.models import Role, User
from curation.models import AssignmentStatus, ModelResponse, Project, Review
from curation.services.assignments import assignment_counts_add
from curation.services.members import project_member_add
from curation.services.reviews import review_submit

DEMO_REVIEWERS = [
    # email, name, specialty, how often their answer drifts from the shared view of an item
    ("reviewer.okafor@concord.test", "Dr. Ben Okafor", "emergency medicine", 0.15),
    ("reviewer.wu@concord.test", "Dr. Chen Wu", "cardiology", 0.2),
    ("reviewer.haas@concord.test", "Dr. Dana Haas", "family medicine", 0.55),
]
SKIP_FIRST_TASKS = 5
REVIEWED_TASKS = 24
REVIEWED_RESPONSES = 24


def demo_reviewers_create() -> list[User]:
    """The three demo reviewers; they cannot sign in (no password) and exist only to have reviewed."""
    reviewers = []
    for email, name, specialty, _ in DEMO_REVIEWERS:
        user, created = User.objects.get_or_create(
            email=email, defaults={"name": name, "role": Role.CLINICIAN, "specialty": specialty}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        reviewers.append(user)
    return reviewers


def _drift(rng: random.Random, value: int, chance: float, low: int = 1, high: int = 5) -> int:
    if rng.random() >= chance:
        return value
    return min(high, max(low, value + rng.choice((-1, 1, -2, 2) if chance > 0.4 else (-1, 1))))


def _seed_answers(rng: random.Random, truth: dict, chance: float) -> dict:
    validity = _drift(rng, truth["validity"], chance)
    decision = "accept" if validity >= 4 else ("accept_with_edits" if validity == 3 else "reject")
    flags = ["unsafe"] if validity <= 2 and rng.random() < 0.7 else []
    if truth["specialist"] and rng.random() > chance / 2:
        flags.append("needs_specialist")
    return {
        "decision": decision,
        "clinical_validity": validity,
        "clarity": _drift(rng, truth["clarity"], chance),
        "difficulty": _drift(rng, truth["difficulty"], chance),
        "flags": flags,
    }


def _response_answers(rng: random.Random, truth: dict, chance: float) -> dict:
    levels = ("none", "minor", "major")
    harm = ("none", "moderate", "severe")

    def step(options, index):
        return options[_drift(rng, index, chance, 0, len(options) - 1)]

    correctness = _drift(rng, truth["correctness"], chance)
    return {
        "correctness": correctness,
        "helpfulness": _drift(rng, truth["helpfulness"], chance),
        "consensus": "aligned" if correctness >= 3 or rng.random() < chance else "opposed",
        "inappropriate_content": step(levels, truth["wrong"]),
        "missing_content": step(levels, truth["missing"]),
        "harm_extent": step(harm, truth["wrong"]),
        "harm_likelihood": step(("low", "medium", "high"), truth["wrong"]),
        "bias": "yes" if rng.random() < chance / 5 else "no",
    }


@transaction.atomic
def demo_reviews_submit(*, project: Project, reviewers: list[User]) -> int:
    """Reviews of some seed tasks and model responses by every demo reviewer; returns how many were made.

    Runs once: a project where these reviewers have already reviewed is left as it is.
    """
    if Review.objects.filter(project=project, reviewer__in=reviewers).exists():
        return 0
    drift = {email: chance for email, _, _, chance in DEMO_REVIEWERS}
    for reviewer in reviewers:
        project_member_add(project=project, user=reviewer)
    made = 0
    tasks = list(project.seed_tasks.order_by("id")[SKIP_FIRST_TASKS : SKIP_FIRST_TASKS + REVIEWED_TASKS])
    for task in tasks:
        shared = random.Random(f"demo-seed-{task.external_id or task.pk}")
        level = task.difficulty or 3
        truth = {
            "validity": shared.choice((2, 3, 4, 4, 5, 5)),
            "clarity": shared.choice((2, 3, 4, 4, 5)),
            "difficulty": level,
            "specialist": level >= 4,
        }
        for reviewer in reviewers:
            rng = random.Random(f"demo-seed-{task.external_id or task.pk}-{reviewer.email}")
            assignment = project.assignments.create(reviewer=reviewer, seed_task=task)
            assignment_counts_add(project_id=project.pk, deltas={reviewer.pk: {AssignmentStatus.PENDING: 1}})
            review_submit(
                reviewer=reviewer,
                schema=project.seed_schema,
                seed_task=task,
                assignment=assignment,
                answers=_seed_answers(rng, truth, drift[reviewer.email]),
            )
            made += 1
    responses = list(
        ModelResponse.objects.filter(seed_task__project=project)
        .select_related("seed_task")
        .order_by("id")[:REVIEWED_RESPONSES]
    )
    for index, response in enumerate(responses):
        ref = f"{response.seed_task.external_id}-{response.model_name}"
        shared = random.Random(f"demo-response-{ref}")
        truth = {
            "correctness": shared.choice((2, 3, 4, 4, 5)),
            "helpfulness": shared.choice((2, 3, 3, 4, 5)),
            "wrong": shared.choice((0, 0, 0, 1, 2)),
            "missing": shared.choice((0, 0, 1, 1, 2)),
        }
        # Every third response has only two reviews, as when one reviewer has not got to it yet.
        for reviewer in reviewers[:2] if index % 3 == 0 else reviewers:
            rng = random.Random(f"demo-response-{ref}-{reviewer.email}")
            review_submit(
                reviewer=reviewer,
                schema=project.response_schema,
                response=response,
                answers=_response_answers(rng, truth, drift[reviewer.email]),
            )
            made += 1
    return made
