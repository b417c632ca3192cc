"""Curators edit a project's rating forms in the app: errors beside the field, a preview as clinicians see it,
and every save a new version that leaves reviews already made on the version they were made with."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from curation.forms.rating_forms import rows_of
from curation.models import RatingSchema
from curation.schemas.definitions import validate_schema_definition
from curation.services.reviews import review_submit
from tests.factories import AssignmentFactory, SeedTaskFactory

ROW_INPUTS = ("key", "label", "kind", "level", "min", "max", "anchors", "options", "criteria", "max_length", "extra")


def editor_post(fields: list[dict], **extra) -> dict:
    """What the editor posts for these fields, as the browser sends it."""
    data = {"field_count": len(fields), **extra}
    for row in rows_of({"fields": fields}):
        i = row["index"]
        data.update({f"f-{i}-{name}": row[name] for name in ROW_INPUTS if row[name] != ""})
        if row["required"]:
            data[f"f-{i}-required"] = "1"
    return data


SEVERITY = {"key": "severity", "label": "Severity", "kind": "ordinal_scale", "required": True, "min": 0, "max": 3}
SEVERITY_ANCHORS = "0 = none\n1 = mild\n2 = moderate\n3 = life-threatening"


def with_severity(project, anchors: str = SEVERITY_ANCHORS, **changes) -> dict:
    fields = [*project.response_schema.fields, {**SEVERITY, **changes}]
    data = editor_post(fields)
    data[f"f-{len(fields) - 1}-anchors"] = anchors
    return data


def test_saving_an_edited_form_makes_a_new_version_and_old_reviews_keep_theirs(client, project, curator, clinician):
    task = SeedTaskFactory(project=project)
    old = project.seed_schema
    review = review_submit(
        reviewer=clinician,
        schema=old,
        seed_task=task,
        answers={"decision": "accept", "clinical_validity": 5, "clarity": 4, "difficulty": 2},
    )
    fields = [*old.fields, {**SEVERITY}]
    client.force_login(curator)

    response = client.post(
        reverse("rating_form_edit", args=[project.slug, "seed"]),
        {**editor_post(fields), "f-6-anchors": SEVERITY_ANCHORS, "action": "save"},
    )

    assert response.status_code == 302
    project.refresh_from_db()
    new = project.seed_schema
    assert (new.name, new.version) == (old.name, old.version + 1)
    assert new.fields[-1]["labels"] == {"0": "none", "1": "mild", "2": "moderate", "3": "life-threatening"}
    assert new.fields[:-1] == old.fields
    review.refresh_from_db()
    assert review.schema == old and RatingSchema.objects.get(pk=old.pk).definition == old.definition


def test_saving_the_form_unchanged_makes_no_version(client, project, curator):
    client.force_login(curator)
    before = project.response_schema

    client.post(
        reverse("rating_form_edit", args=[project.slug, "response"]),
        {**editor_post(before.fields), "action": "save"},
    )

    project.refresh_from_db()
    assert project.response_schema == before
    assert RatingSchema.objects.filter(project=project, name=before.name).count() == 1


@pytest.mark.parametrize(
    ("changes", "anchors", "message"),
    [
        ({"min": 3, "max": 3}, "", "a scale needs integer min < max"),
        ({}, "0 = none\n7 = beyond", "'7' is not a point of the scale 0 to 3"),
        ({}, "mild", "write `point = label`"),
        ({"key": "Severity!"}, "", "must be lower_snake_case"),
        ({"key": "correctness"}, "", "field keys must be unique: correctness repeated"),
    ],
)
def test_a_refused_form_says_what_is_wrong_and_saves_nothing(client, project, curator, changes, anchors, message):
    client.force_login(curator)
    before = project.response_schema

    response = client.post(
        reverse("rating_form_edit", args=[project.slug, "response"]),
        {**with_severity(project, anchors, **changes), "action": "save"},
    )

    assert response.status_code == 400
    field_errors = [problem for row in response.context["rows"] for problem in row["errors"]]
    assert any(message in problem for problem in [*field_errors, *response.context["general_errors"]])
    if "unique" not in message:  # a field's own problem is shown beside that field, the last one here
        assert response.context["rows"][-1]["errors"] and not any(r["errors"] for r in response.context["rows"][:-1])
    project.refresh_from_db()
    assert project.response_schema == before


def test_the_preview_draws_the_form_as_the_review_page_does_with_its_anchors(client, project, curator):
    client.force_login(curator)

    fragment = client.post(
        reverse("rating_form_preview", args=[project.slug, "response"]), with_severity(project)
    ).content.decode()

    assert 'id="field-severity"' in fragment and 'name="a-severity"' in fragment
    assert '<span class="muted anchor">life-threatening</span>' in fragment
    assert '<span class="muted anchor">Fully correct</span>' in fragment  # the default correctness scale's anchor


def test_the_preview_leaves_out_a_broken_field_and_names_its_problem(client, project, curator):
    client.force_login(curator)

    fragment = client.post(
        reverse("rating_form_preview", args=[project.slug, "response"]), with_severity(project, min=5, max=1)
    ).content.decode()

    assert 'id="field-severity"' not in fragment and 'id="field-correctness"' in fragment
    assert (
        f"Field {len(project.response_schema.fields) + 1} (Severity)" in fragment
        and "a scale needs integer min &lt; max" in fragment
    )


def test_adding_a_field_redraws_the_editor_with_it_and_saves_nothing(client, project, curator):
    client.force_login(curator)
    before = project.seed_schema

    response = client.post(
        reverse("rating_form_edit", args=[project.slug, "seed"]),
        {**editor_post(before.fields), "action": "add", "new_kind": "ordinal_scale"},
    )

    assert response.status_code == 200
    added = response.context["rows"][-1]
    assert (added["kind"], added["min"], added["max"]) == ("ordinal_scale", 1, 5)
    assert added["anchors"].splitlines() == ["1 =", "2 =", "3 =", "4 =", "5 ="]  # one line per point to fill in
    project.refresh_from_db()
    assert project.seed_schema == before


def test_removing_and_moving_fields(client, project, curator):
    client.force_login(curator)
    fields = project.seed_schema.fields
    data = {**editor_post(fields), "f-0-remove": "1", "action": "move-2"}

    rows = client.post(reverse("rating_form_edit", args=[project.slug, "seed"]), data).context["rows"]

    assert [row["key"] for row in rows] == ["clarity", "clinical_validity", "difficulty", "flags", "comment"]


def test_the_review_page_shows_each_scale_points_anchor(client, project, clinician):
    assignment = AssignmentFactory(seed_task=SeedTaskFactory(project=project), reviewer=clinician)
    client.force_login(clinician)

    page = client.get(reverse("review_item", args=[project.slug, assignment.pk])).content.decode()

    assert '<span class="muted anchor">wrong or unsafe</span>' in page


def test_an_unknown_form_is_not_found(client, project, curator):
    client.force_login(curator)
    assert client.get(reverse("rating_form_edit", args=[project.slug, "pairwise"])).status_code == 404


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ({"6": "beyond"}, "'6' is not a point of the scale 1 to 5"),
        ({"one": "poor"}, "'one' is not a point"),
        ({"1": "  "}, "the anchor of 1 must be non-empty text"),
        (["poor"], "must map scale points"),
    ],
)
def test_the_form_language_checks_anchor_labels(labels, message):
    scale = {"key": "quality", "kind": "ordinal_scale", "min": 1, "max": 5, "labels": labels}
    with pytest.raises(ValidationError, match=message):
        validate_schema_definition({"fields": [scale]})
