"""The project's task count and its counts per vocabulary spelling follow every write that adds tasks
or changes their terms, and a recount repairs them when rows were written some other way."""

import importlib
import io
import json

import pytest
from django.apps import apps
from django.core.management import call_command
from django.urls import reverse

from curation.models import AssignmentCount, SeedTask, SeedTaskCount, VocabularyKind, VocabularyUse
from curation.services.imports import import_file
from curation.services.seed_tasks import seed_task_create, seed_task_edit
from tests.counts import assert_counts_true, kept_counts, true_counts
from tests.factories import ProjectFactory
from tests.scale import grow


def _alpaca(tmp_path, name, rows):
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    return path


def test_a_new_task_counts_once_in_its_project_with_its_topic_view_and_type(project, curator):
    other = ProjectFactory()
    seed_task_create(project=project, instruction="Define sepsis.", topic="Cardiology", view="Patient", task_type="")
    seed_task_create(project=other, instruction="Define gout.", topic="Rheumatology")

    assert kept_counts(project)["tasks"] == 1
    assert_counts_true(project)
    assert_counts_true(other)


def test_an_edit_of_the_topic_moves_the_task_to_its_new_spelling(project, curator):
    task = seed_task_create(project=project, instruction="Define sepsis.", topic="Cardiology", task_type="Open Q&A")
    seed_task_edit(
        task_id=task.pk,
        editor=curator,
        expected_version=1,
        changes={"topic_raw": "Infectious disease", "task_type_raw": "Rewrite", "difficulty": 2},
        rationale="wrong topic",
    )

    uses = kept_counts(project)["uses"]
    assert [raw for (kind, _, raw) in uses if kind == VocabularyKind.TOPIC] == ["Infectious disease"]
    assert_counts_true(project)


def test_an_import_counts_what_it_wrote_and_not_what_it_skipped(project, curator, tmp_path):
    rows = [
        {
            "instruction": f"Define condition {i}.",
            "output": "A condition.",
            "topic": f"Topic {i % 3}",
            "type": "Open QA",
        }
        for i in range(7)
    ]
    import_file(project=project, path=_alpaca(tmp_path, "a.jsonl", rows), created_by=curator, format="alpaca")
    # A second file repeats three of them: only the four new ones are written and counted.
    more = rows[:3] + [{"instruction": f"Define sign {i}.", "output": "A sign.", "view": "Patient"} for i in range(4)]
    import_file(project=project, path=_alpaca(tmp_path, "b.jsonl", more), created_by=curator, format="alpaca")

    assert kept_counts(project)["tasks"] == 11 == SeedTask.objects.filter(project=project).count()
    assert_counts_true(project)


def test_the_dashboard_shows_the_kept_count_after_an_import(client, project, clinician, curator, tmp_path):
    rows = [{"instruction": f"Define condition {i}.", "output": "A condition."} for i in range(5)]
    import_file(project=project, path=_alpaca(tmp_path, "a.jsonl", rows), created_by=curator, format="alpaca")
    client.force_login(clinician)

    [shown] = client.get(reverse("dashboard")).context["projects"]

    assert shown.task_count == 5


def test_recount_repairs_counts_of_rows_written_another_way_and_says_so(project, clinician, capsys):
    grow(project, [clinician], 6)
    SeedTaskCount.objects.filter(project=project).update(tasks=1)
    VocabularyUse.objects.filter(project=project).delete()
    AssignmentCount.objects.filter(project=project).update(pending=40)

    call_command("recount", project=project.slug)

    assert "cardio: corrected" in capsys.readouterr().out
    assert_counts_true(project)
    call_command("recount")
    assert "cardio: every count was right" in capsys.readouterr().out


def test_recount_names_a_project_that_does_not_exist(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No project with the slug 'nope'"):
        call_command("recount", project="nope")


def test_the_migration_counts_the_rows_a_kept_database_already_has(project, clinician):
    grow(project, [clinician], 9)
    before = true_counts(project)
    for model in (SeedTaskCount, VocabularyUse, AssignmentCount):
        model.objects.all().delete()

    importlib.import_module("curation.migrations.0019_counts").count_existing_rows(apps, None)

    assert kept_counts(project) == before


def test_the_demo_counts_the_tasks_and_assignments_it_loads(db):
    from django.test import override_settings

    from curation.models import Project

    with override_settings(DEBUG=True):  # load_demo runs only with DEBUG on
        call_command("load_demo", stdout=io.StringIO())
    for project in Project.objects.all():
        assert_counts_true(project)
    assert kept_counts(Project.objects.get(slug="demo"))["tasks"] > 0
