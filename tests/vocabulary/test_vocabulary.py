import pytest

from curation.models import VocabularyTerm
from curation.services.seed_tasks import seed_task_create
from curation.services.vocabulary import (
    vocabulary_resolve,
    vocabulary_term_get_or_create,
)
from curation.text.vocabulary import normalise_key


@pytest.mark.parametrize(
    "spellings",
    [
        ["Rewrite", "Rewrites", "rewrite", "REWRITE"],
        ["Classification", "Classifications"],
        ["Multiple-Choice Q&A", "Multiple-choice Q&A", "Multiple Choice Q&A", "multiple choice QA"],
        ["Medical Student", "Medical student", "Medical Students"],
        ["Patient", "Patients", "patient"],
        ["Text Generation", "Text generation", "text-generation"],
        ["Patient's Perspective", "Patient\u2019s Perspective"],
    ],
)
def test_mechanical_variants_share_one_key(spellings):
    assert len({normalise_key(s) for s in spellings}) == 1


def test_different_terms_keep_different_keys():
    assert normalise_key("Single-hop Reasoning") != normalise_key("Multi-hop Reasoning")
    assert normalise_key("Physician") != normalise_key("Physical Therapist")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "raw", "canonical"),
    [
        ("task_type", "Rewriting", "Rewrite"),
        ("task_type", "Rewrite Task", "Rewrite"),
        ("task_type", "Rewrites", "Rewrite"),
        ("task_type", "Open-ended Q&A", "Open Q&A"),
        ("task_type", "Multiple-hop reasoning", "Multi-hop Reasoning"),
        ("task_type", "USMLE style Q&A", "USMLE-style Q&A"),
        ("view", "Medical student", "Medical Student"),
        ("view", "Patient\u2019s Perspective", "Patient"),
        ("view", "Expert View", "Medical Expert"),
        ("view", "Genetic Counsellor", "Genetic Counselor"),
    ],
)
def test_default_vocabulary_resolves_real_world_spellings(kind, raw, canonical):
    term = vocabulary_resolve(kind=kind, raw=raw)
    assert term is not None and term.name == canonical


@pytest.mark.django_db
def test_unmapped_value_resolves_to_nothing_and_keeps_its_raw_spelling(project):
    assert vocabulary_resolve(kind="view", raw="Radiographer") is None
    task = seed_task_create(project=project, instruction="Describe a chest film.", view="Radiographer")
    assert task.view is None
    assert task.view_raw == "Radiographer"


@pytest.mark.django_db
def test_task_links_canonical_term_and_keeps_raw_value(project):
    task = seed_task_create(project=project, instruction="Rewrite this note.", task_type="Rewrites", view="Patients")
    assert task.task_type.name == "Rewrite"
    assert task.task_type_raw == "Rewrites"
    assert task.view.name == "Patient"


@pytest.mark.django_db
def test_get_or_create_finds_a_variant_instead_of_duplicating():
    before = VocabularyTerm.objects.filter(kind="view").count()
    term = vocabulary_term_get_or_create(kind="view", name="medical students")
    assert term.name == "Medical Student"
    assert VocabularyTerm.objects.filter(kind="view").count() == before
