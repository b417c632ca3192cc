import copy

import pytest
from django.core.exceptions import ValidationError

from curation.models import SchemaTarget
from curation.schemas.defaults import RESPONSE_REVIEW, SEED_REVIEW
from curation.schemas.definitions import clean_answers, validate_schema_definition
from curation.services.projects import rating_schema_create


def test_default_schemas_are_valid():
    validate_schema_definition(SEED_REVIEW)
    validate_schema_definition(RESPONSE_REVIEW)


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ([], "object with a 'fields' list"),
        ({"fields": []}, "non-empty 'fields'"),
        ({"fields": [{"key": "Bad Key", "kind": "free_text"}]}, "lower_snake_case"),
        ({"fields": [{"key": "x", "kind": "slider"}]}, "kind: must be one of"),
        (
            {"fields": [{"key": "x", "kind": "single_choice", "options": [{"value": "a"}]}]},
            "at least two options",
        ),
        (
            {"fields": [{"key": "x", "kind": "single_choice", "options": [{"value": "a"}, {"value": "a"}]}]},
            "option values must be unique",
        ),
        ({"fields": [{"key": "x", "kind": "ordinal_scale", "min": 5, "max": 1}]}, "integer min < max"),
        ({"fields": [{"key": "x", "kind": "ordinal_scale", "min": 1, "max": 5, "level": "ratio"}]}, "level"),
        (
            {"fields": [{"key": "x", "kind": "free_text", "level": "nominal"}]},
            "free text has no measurement level",
        ),
        ({"fields": [{"key": "x", "kind": "rubric", "criteria": []}]}, "at least one criterion"),
        ({"fields": [{"key": "x", "kind": "number", "min": 3, "max": 1}]}, "min must be below max"),
        (
            {"fields": [{"key": "x", "kind": "free_text"}, {"key": "x", "kind": "free_text"}]},
            "must be unique: x repeated",
        ),
        (
            {"fields": [{"key": "x", "kind": "free_text", "required": "yes"}]},
            "required: must be true or false",
        ),
    ],
)
def test_invalid_definitions_are_refused_with_the_reason(definition, message):
    with pytest.raises(ValidationError) as raised:
        validate_schema_definition(definition)
    assert any(message in text for text in raised.value.messages), raised.value.messages


@pytest.mark.django_db
def test_saving_a_schema_through_the_service_validates_it(project):
    with pytest.raises(ValidationError):
        rating_schema_create(
            project=project,
            name="Broken",
            target=SchemaTarget.SEED_TASK,
            definition={"fields": [{"key": "x"}]},
        )
    assert not project.rating_schemas.filter(name="Broken").exists()


@pytest.mark.django_db
def test_a_changed_schema_is_a_new_version_and_the_old_one_stays(project):
    changed = copy.deepcopy(SEED_REVIEW)
    changed["fields"].append({"key": "novelty", "kind": "ordinal_scale", "min": 1, "max": 3})
    newer = rating_schema_create(project=project, name="Seed review", target="seed_task", definition=changed)
    assert newer.version == 2
    assert project.rating_schemas.filter(name="Seed review").count() == 2


def test_answers_missing_required_fields_or_out_of_range_are_refused():
    with pytest.raises(ValidationError) as raised:
        clean_answers(SEED_REVIEW, {"decision": "maybe", "clarity": 9, "unknown": 1})
    errors = raised.value.message_dict
    assert "must be one of" in errors["decision"][0]
    assert "from 1 to 5" in errors["clarity"][0]
    assert errors["clinical_validity"] == ["is required"]
    assert errors["unknown"] == ["is not a field of this form"]


def test_complete_answers_are_accepted_and_empty_optionals_dropped():
    answers = {
        "decision": "accept",
        "clinical_validity": 5,
        "clarity": 4,
        "difficulty": 2,
        "flags": [],
        "comment": "",
    }
    assert clean_answers(SEED_REVIEW, answers) == {
        "decision": "accept",
        "clinical_validity": 5,
        "clarity": 4,
        "difficulty": 2,
    }


def test_booleans_are_not_scale_values():
    with pytest.raises(ValidationError):
        clean_answers(SEED_REVIEW, {"decision": "accept", "clinical_validity": True, "clarity": 4, "difficulty": 2})
