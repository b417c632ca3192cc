import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from curation.models import SeedTask
from curation.selectors.seed_tasks import seed_task_history
from curation.services.seed_tasks import EditConflict, seed_task_create, seed_task_edit


@pytest.fixture
def created_task(project, curator):
    return seed_task_create(
        project=project,
        instruction="List three causes of chest pain.",
        input="<noinput>",
        reference_output="Angina, reflux, musculoskeletal strain.",
        task_type="Open Q&A",
        difficulty=2,
        created_by=curator,
    )


def test_noinput_marker_is_stored_as_an_empty_input(created_task):
    assert created_task.input == ""


def test_an_edit_becomes_a_revision_with_who_why_and_old_and_new_values(created_task, clinician):
    seed_task_edit(
        task_id=created_task.pk,
        editor=clinician,
        expected_version=1,
        changes={"instruction": "List three life-threatening causes of chest pain.", "difficulty": 3},
        rationale="Ask for the dangerous causes; that is what matters clinically.",
    )
    history = seed_task_history(task=SeedTask.objects.get(pk=created_task.pk))
    latest = history[0]
    assert latest["kind"] == "edited"
    assert latest["user"] == clinician
    assert latest["version"] == 2
    assert latest["rationale"] == "Ask for the dangerous causes; that is what matters clinically."
    assert {c["field"]: (c["old"], c["new"]) for c in latest["changes"]} == {
        "instruction": (
            "List three causes of chest pain.",
            "List three life-threatening causes of chest pain.",
        ),
        "difficulty": (2, 3),
    }
    assert history[-1]["kind"] == "created"


def test_an_edit_without_rationale_is_refused_and_changes_nothing(created_task, clinician):
    with pytest.raises(ValidationError) as raised:
        seed_task_edit(
            task_id=created_task.pk,
            editor=clinician,
            expected_version=1,
            changes={"difficulty": 5},
            rationale="  ",
        )
    assert "rationale" in raised.value.message_dict
    created_task.refresh_from_db()
    assert created_task.difficulty == 2 and created_task.version == 1


def test_second_editor_on_a_stale_version_gets_a_conflict_and_nothing_is_overwritten(created_task, clinician, curator):
    seed_task_edit(
        task_id=created_task.pk,
        editor=curator,
        expected_version=1,
        changes={"difficulty": 4},
        rationale="harder",
    )
    with pytest.raises(EditConflict) as raised:
        seed_task_edit(
            task_id=created_task.pk,
            editor=clinician,
            expected_version=1,
            changes={"difficulty": 1},
            rationale="easy",
        )
    assert raised.value.current.difficulty == 4
    created_task.refresh_from_db()
    assert created_task.difficulty == 4 and created_task.version == 2


def test_editing_the_type_relinks_the_vocabulary_term(created_task, clinician):
    task = seed_task_edit(
        task_id=created_task.pk,
        editor=clinician,
        expected_version=1,
        changes={"task_type_raw": "Rewriting"},
        rationale="It asks for a rewrite",
    )
    assert task.task_type.name == "Rewrite"


def test_an_edit_that_changes_nothing_makes_no_revision(created_task, clinician):
    seed_task_edit(
        task_id=created_task.pk,
        editor=clinician,
        expected_version=1,
        changes={"difficulty": 2},
        rationale="no-op",
    )
    assert created_task.history.count() == 1


def test_edit_page_saves_a_revision_and_shows_it_in_the_history(client, created_task, clinician):
    client.force_login(clinician)
    url = reverse("task_edit", args=[created_task.project.slug, created_task.pk])
    form = {
        "instruction": created_task.instruction,
        "input": "",
        "reference_output": created_task.reference_output + "\r\nConsider aortic dissection.",
        "topic_raw": "",
        "view_raw": "",
        "task_type_raw": "Open Q&A",
        "difficulty": "2",
        "rationale": "Add a red flag",
        "version": "1",
    }
    response = client.post(url, form)
    assert response.status_code == 302
    detail = client.get(response["Location"])
    assert "Add a red flag" in detail.content.decode()
    assert "Consider aortic dissection." in SeedTask.objects.get(pk=created_task.pk).reference_output


def test_edit_page_shows_both_versions_on_conflict(client, created_task, clinician, curator):
    seed_task_edit(
        task_id=created_task.pk,
        editor=curator,
        expected_version=1,
        changes={"instruction": "Curator wording"},
        rationale="clarify",
    )
    client.force_login(clinician)
    url = reverse("task_edit", args=[created_task.project.slug, created_task.pk])
    response = client.post(
        url,
        {
            "instruction": "Clinician wording",
            "input": "",
            "reference_output": "",
            "difficulty": "",
            "rationale": "mine",
            "version": "1",
        },
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "Curator wording" in page and "Clinician wording" in page
    assert SeedTask.objects.get(pk=created_task.pk).instruction == "Curator wording"
