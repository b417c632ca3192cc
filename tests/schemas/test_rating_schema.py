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


GRADED = {"key": "rubric", "label": "Physician rubric", "kind": "rubric", "criteria_from": "prompt", "required": True}
GRADED_FORM = {"fields": [GRADED, {"key": "comment", "kind": "free_text"}]}


def test_a_rubric_field_may_take_its_criteria_from_the_prompts_rubric():
    validate_schema_definition(GRADED_FORM)


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ({**GRADED, "criteria_from": "form"}, "criteria_from: must be 'prompt'"),
        ({**GRADED, "criteria": [{"key": "a", "label": "A"}]}, "lists no criteria here"),
    ],
)
def test_a_prompt_rubric_field_is_refused_with_the_reason(field, message):
    with pytest.raises(ValidationError) as raised:
        validate_schema_definition({"fields": [field]})
    assert any(message in text and "'rubric'" in text for text in raised.value.messages), raised.value.messages


def test_a_form_grades_the_prompts_rubric_in_one_field_at_most():
    with pytest.raises(ValidationError) as raised:
        validate_schema_definition({"fields": [GRADED, {**GRADED, "key": "again"}]})
    assert "only one field may grade the prompt's rubric ('rubric', 'again' both do)" in raised.value.messages


def test_marks_on_the_prompts_rubric_cover_every_criterion_and_only_its_criteria():
    criteria = [41, 42, 43]
    assert clean_answers(GRADED_FORM, {"rubric": {"43": False, 41: True, "42": False}}, prompt_criteria=criteria) == {
        "rubric": {"41": True, "42": False, "43": False}
    }
    for answer, message in (
        ({"41": True}, "criteria 2, 3 have no mark"),
        (
            {"41": True, "42": True, "43": True, "99": False},
            "must mark only criteria of the prompt's accepted rubric (99 are not)",
        ),
        ({"41": "yes", "42": True, "43": True}, "must mark each criterion"),
        (["41"], "must mark each criterion"),
    ):
        with pytest.raises(ValidationError) as raised:
            clean_answers(GRADED_FORM, {"rubric": answer}, prompt_criteria=criteria)
        assert message in raised.value.message_dict["rubric"][0], (answer, raised.value.message_dict)
    with pytest.raises(ValidationError) as raised:
        clean_answers(GRADED_FORM, {}, prompt_criteria=criteria)
    assert raised.value.message_dict == {"rubric": ["is required"]}


def test_without_an_accepted_rubric_the_field_is_optional_and_takes_no_marks():
    assert clean_answers(GRADED_FORM, {}, prompt_criteria=None) == {}
    with pytest.raises(ValidationError) as raised:
        clean_answers(GRADED_FORM, {"rubric": {"41": True}}, prompt_criteria=None)
    assert "no accepted rubric" in raised.value.message_dict["rubric"][0]
