import pytest

from curation.services.rubrics import CriterionInput, rubric_accept, rubric_create, rubric_submit
from tests.factories import ClinicianFactory, MembershipFactory, ModelResponseFactory, PromptFactory

CRITERIA = [
    CriterionInput(text="Advises calling emergency services for chest pain", points=8, axis="accuracy"),
    CriterionInput(text="Asks how long the pain has lasted", points=4, axis="context_awareness"),
    CriterionInput(text="Recommends aspirin to a patient on warfarin", points=-6, axis="accuracy"),
    CriterionInput(
        text="Seeks the context it needs",
        points=5,
        axis="context_awareness",
        level="cluster",
        cluster="context_seeking",
    ),
]


@pytest.fixture
def reviewer(project):
    user = ClinicianFactory(email="second@example.org")
    MembershipFactory(project=project, user=user)
    return user


@pytest.fixture
def prompt(project):
    return PromptFactory(project=project, external_id="chest-pain", instruction="I have chest pain. What do I do?")


@pytest.fixture
def accepted_rubric(prompt, clinician, reviewer):
    rubric = rubric_create(prompt=prompt, author=clinician, criteria=CRITERIA)
    rubric_submit(rubric_id=rubric.pk, author=clinician)
    return rubric_accept(rubric_id=rubric.pk, reviewer=reviewer)


@pytest.fixture
def responses(prompt):
    # The answers do not name their model, so a page or payload that shows one has leaked it.
    return {
        model: ModelResponseFactory(prompt=prompt, seed_task=None, model_name=model, text=f"Call 999 now ({n}).")
        for n, model in enumerate(("model-a", "model-b"), start=1)
    }
