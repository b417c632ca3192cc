"""A project can be started from the shell, with its forms, and import_items says how when it is missing."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from curation.models import Project, ReviewVisibility
from curation.services.projects import rating_schema_create
from tests.data import SEED
from tests.factories import ClinicianFactory, CuratorFactory
from tests.markers import needs_alpacare


def test_create_project_makes_a_project_with_both_rating_forms(db, tmp_path, capsys):
    guidelines = tmp_path / "guidelines.md"
    guidelines.write_text("# Rate against the reference\n", encoding="utf-8")
    curator = CuratorFactory(email="lead@example.org")

    call_command(
        "create_project",
        "nephro",
        "--name",
        "Nephrology seeds",
        "--guidelines",
        str(guidelines),
        "--k",
        "3",
        "--visibility",
        ReviewVisibility.AFTER_SUBMIT,
        "--owner",
        "LEAD@example.org",
    )

    project = Project.objects.get(slug="nephro")
    assert project.name == "Nephrology seeds"
    assert project.guidelines == "# Rate against the reference\n"
    assert (project.reviewers_per_item, project.review_visibility) == (3, ReviewVisibility.AFTER_SUBMIT)
    assert project.seed_schema.fields and project.response_schema.fields
    assert project.created_by == curator and project.memberships.filter(user=curator).exists()
    assert "Created project 'nephro'" in capsys.readouterr().out


def test_a_project_from_a_template_takes_its_current_forms_and_guidelines_but_no_people(project, curator):
    edited = dict(project.seed_schema.definition)
    edited["fields"] = [*edited["fields"][:2]]
    project.seed_schema = rating_schema_create(
        project=project, name=project.seed_schema.name, target="seed_task", definition=edited
    )
    project.guidelines = "Cardiology guidelines"
    project.save()

    call_command("create_project", "cardio-2", "--name", "Cardiology, second batch", "--from-template", "cardio")

    copy = Project.objects.get(slug="cardio-2")
    assert copy.seed_schema.definition == edited and copy.seed_schema.version == 1
    assert copy.response_schema.definition == project.response_schema.definition
    assert copy.guidelines == "Cardiology guidelines"
    assert not copy.memberships.exists()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["bad slug!", "--name", "X"], "slug"),
        (["ok", "--name", "X", "--from-template", "nope"], "--from-template: no project with slug 'nope'"),
        (["ok", "--name", "X", "--owner", "nobody@example.org"], "--owner: no active account"),
        (["cardio", "--name", "Again"], "slug"),
        (["ok", "--name", "X", "--k", "0"], "reviewers_per_item: .*greater than or equal to 1"),
        (["ok", "--name", "X", "--k", "21"], "reviewers_per_item: .*less than or equal to 20"),
        (["ok", "--name", "X", "--owner", "ana@example.org"], "created_by: ana@example.org is not a curator"),
    ],
)
def test_create_project_refuses_bad_input_and_creates_nothing(project, arguments, message):
    ClinicianFactory(email="ana@example.org")
    before = Project.objects.count()

    with pytest.raises(CommandError, match=message):
        call_command("create_project", *arguments)

    assert Project.objects.count() == before


@needs_alpacare
def test_import_into_a_missing_project_says_how_to_create_it(db):
    with pytest.raises(CommandError, match=r"create_project nowhere --name .*or add --create"):
        call_command("import_items", str(SEED), "--project", "nowhere")
    assert not Project.objects.exists()


@needs_alpacare
def test_import_with_create_makes_the_project_then_imports_into_it(db, capsys):
    call_command("import_items", str(SEED), "--project", "seeds", "--create")

    project = Project.objects.get(slug="seeds")
    assert project.seed_tasks.count() == 167
    assert project.seed_schema is not None
    assert "Created project 'seeds'" in capsys.readouterr().out
