"""What a release will contain is said before it is built, and a release of no row is refused
everywhere with a hint at what would give rows."""

import io
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from curation.models import FlagKind, ItemFlag, PhiScan, Release, ReleaseStatus, SeedTask, TaskStatus
from curation.services.releases import release_build, release_create
from tests.factories import SeedTaskFactory

NO_TASK_ACCEPTED = "no task is accepted yet: accept tasks on the Adjudication page, or choose status=in_review"


@pytest.fixture
def imported(project):
    """A fresh import: tasks waiting for review, none accepted."""
    return SeedTaskFactory.create_batch(4, project=project, status=TaskStatus.IN_REVIEW, topic_raw="Cardiology")


def _preview(client, project, **query) -> str:
    data = {"format": "alpaca", "license": "CC BY-NC 4.0", "statuses": ["accepted"], "min_reviewers": "0", **query}
    response = client.get(reverse("release_preview", args=[project.slug]), data)
    assert response.status_code == 200
    return " ".join(re.sub(r"<[^>]+>", "", response.content.decode()).split())


def _export(project, tmp_path, *args: str) -> tuple[int, str]:
    """Run export_dataset: the exit code the command line would give (a CommandError's) and its message."""
    argv = ["--project", project.slug, "--format", "alpaca", "--out", str(tmp_path / "out.jsonl"), *args]
    try:
        call_command("export_dataset", *argv, stdout=io.StringIO())
    except CommandError as refused:
        return refused.returncode, str(refused)
    return 0, ""


# --- Refused when empty ---


def test_the_default_definition_on_a_fresh_import_is_refused_by_the_service_with_a_hint(project, imported):
    with pytest.raises(ValidationError) as refused:
        release_create(project=project, created_by=None, format="alpaca", enqueue=False)

    assert refused.value.message_dict == {"filters": [f"This release would hold no row: {NO_TASK_ACCEPTED}."]}
    assert not Release.objects.exists()


def test_the_api_refuses_an_empty_release_with_a_400_naming_the_filters(client, project, admin_user, imported):
    client.force_login(admin_user)

    response = client.post(
        reverse("api_release_list", args=[project.slug]), {"format": "chat"}, content_type="application/json"
    )

    assert response.status_code == 400
    assert NO_TASK_ACCEPTED in response.json()["filters"][0]
    assert not Release.objects.exists()


def test_the_page_refuses_an_empty_release_and_says_why(client, project, admin_user, imported):
    client.force_login(admin_user)

    response = client.post(
        reverse("release_list", args=[project.slug]),
        {"format": "alpaca", "license": "CC BY-NC 4.0", "statuses": ["accepted"], "min_reviewers": "0"},
    )

    assert response.status_code == 400
    assert NO_TASK_ACCEPTED in response.content.decode()
    assert not Release.objects.exists()


def test_the_command_line_exits_1_with_the_hint_and_writes_nothing(project, imported, tmp_path):
    code, err = _export(project, tmp_path)

    assert code == 1
    assert NO_TASK_ACCEPTED in err
    assert not (tmp_path / "out.jsonl").exists() and not Release.objects.exists()


def test_tasks_not_yet_scanned_for_phi_are_named_as_why_nothing_is_exported(project, imported, tmp_path):
    PhiScan.objects.filter(seed_task__in=imported).delete()

    code, err = _export(project, tmp_path, "--status", "in_review")

    assert code == 1
    assert "4 task(s) of status in_review are not scanned for PHI yet" in err
    assert not Release.objects.exists()


def test_tasks_all_held_back_by_open_flags_are_named_as_why_nothing_is_exported(project, imported, tmp_path):
    for task in imported:
        ItemFlag.objects.create(project=project, seed_task=task, kind=FlagKind.UNSAFE)

    code, err = _export(project, tmp_path, "--status", "in_review")

    assert code == 1
    assert "every task of status in_review is held back by an open PHI finding or an unsafe flag" in err


def test_tasks_held_back_by_the_gate_are_counted_on_the_card_and_by_the_command(project, imported, tmp_path):
    ItemFlag.objects.create(project=project, seed_task=imported[0], kind=FlagKind.UNSAFE)
    PhiScan.objects.filter(seed_task=imported[1]).delete()
    said = io.StringIO()

    out, card = tmp_path / "out.jsonl", tmp_path / "card.md"
    argv = ["--project", project.slug, "--format", "alpaca", "--status", "in_review", "--out", out, "--card", card]
    call_command("export_dataset", *map(str, argv), stdout=said)

    assert len(out.read_bytes().splitlines()) == 2
    assert "Held back: 2 seed task(s) the filters selected that are not cleared for release" in card.read_text()
    assert "Held back: 2 seed task(s) the filters select are not cleared for release" in said.getvalue()


def test_following_the_hint_exports_the_tasks_in_review(project, imported, tmp_path):
    code, err = _export(project, tmp_path, "--status", "in_review")

    assert code == 0, err
    assert len((tmp_path / "out.jsonl").read_bytes().splitlines()) == 4


def test_filters_that_match_nothing_are_refused_asking_to_widen_them(project, imported):
    with pytest.raises(ValidationError) as refused:
        release_create(
            project=project,
            created_by=None,
            format="alpaca",
            filters={"statuses": ["in_review"], "difficulties": [5]},
            enqueue=False,
        )

    assert "no row matches this definition: widen its filters" in refused.value.message_dict["filters"][0]


def test_a_build_that_finds_no_row_left_fails_instead_of_publishing_an_empty_release(project, imported):
    release = release_create(
        project=project, created_by=None, format="alpaca", filters={"statuses": ["in_review"]}, enqueue=False
    )
    SeedTask.objects.filter(project=project).update(status=TaskStatus.REJECTED)

    built = release_build(release_id=release.pk)

    assert built.status == ReleaseStatus.FAILED
    assert "no row when built" in built.error
    assert built.file_path == "" and built.row_count is None


# --- Said before building ---


def test_the_form_asks_for_the_count_whenever_a_field_changes(client, project, admin_user):
    client.force_login(admin_user)

    page = client.get(reverse("release_list", args=[project.slug])).content.decode()

    assert f'hx-get="{reverse("release_preview", args=[project.slug])}"' in page
    assert 'hx-trigger="load, change' in page and 'hx-target="#release-preview"' in page


def test_the_preview_counts_the_rows_the_build_then_writes(client, project, admin_user, imported):
    SeedTaskFactory.create_batch(2, project=project, status=TaskStatus.ACCEPTED, topic_raw="Nephrology")
    client.force_login(admin_user)

    assert "would hold 2 tasks" in _preview(client, project)
    assert "would hold 6 tasks" in _preview(client, project, statuses=["accepted", "in_review"])
    assert "would hold 4 tasks" in _preview(client, project, statuses=["in_review", "accepted"], topics=["Cardiology"])
    release = release_build(
        release_id=release_create(
            project=project,
            created_by=None,
            format="alpaca",
            filters={"statuses": ["accepted", "in_review"], "topics": ["Cardiology"]},
            enqueue=False,
        ).pk
    )
    assert release.row_count == 4
    rows = [json.loads(line) for line in (Path(settings.MEDIA_ROOT) / release.file_path).read_bytes().splitlines()]
    assert {row["metadata"]["topic"] for row in rows} == {"Cardiology"}


def test_the_preview_of_an_empty_definition_gives_the_hint_and_of_a_bad_one_the_error(
    client, project, admin_user, imported
):
    client.force_login(admin_user)

    assert f"would hold no row: {NO_TASK_ACCEPTED}" in _preview(client, project)
    assert "min_reviewers: must be a whole number, 0 or more (got -1)" in _preview(client, project, min_reviewers="-1")


def test_a_preference_count_is_labelled_an_upper_bound(client, project, admin_user, clinician):
    from curation.services.reviews import review_submit

    task = SeedTaskFactory(project=project, status=TaskStatus.ACCEPTED, reference_output="Rest.")
    answers = {"decision": "accept", "clinical_validity": 5, "clarity": 4, "difficulty": 3}
    review_submit(
        reviewer=clinician, schema=project.seed_schema, seed_task=task, answers=answers, corrected_text="Rest."
    )
    client.force_login(admin_user)

    assert "would hold at most 1 pairs" in _preview(client, project, format="preference")


# --- Tasks without an output ---


@pytest.fixture
def half_written(project):
    """Three accepted tasks, one of them without a reference output."""
    written = SeedTaskFactory.create_batch(2, project=project, status=TaskStatus.ACCEPTED, reference_output="Rest.")
    empty = SeedTaskFactory(project=project, status=TaskStatus.ACCEPTED, reference_output="")
    return written, empty


def _rows(release: Release) -> list[dict]:
    return [json.loads(line) for line in (Path(settings.MEDIA_ROOT) / release.file_path).read_bytes().splitlines()]


def _built(project, fmt="alpaca", **filters) -> Release:
    release = release_create(project=project, created_by=None, format=fmt, filters=filters, enqueue=False)
    return release_build(release_id=release.pk)


@pytest.mark.parametrize("fmt", ["alpaca", "chat"])
def test_tasks_without_an_output_are_left_out_by_default_and_the_card_says_how_many(project, half_written, fmt):
    written, _ = half_written

    release = _built(project, fmt)

    assert release.row_count == 2
    assert [row["metadata"]["task_id"] for row in _rows(release)] == [task.pk for task in written]
    assert "Left out: 1 seed task(s) the filters selected that have no reference output" in release.card


def test_include_empty_outputs_keeps_them_with_an_empty_output(project, half_written):
    release = _built(project, include_empty_outputs=True)

    assert release.row_count == 3
    assert _rows(release)[-1]["output"] == ""
    assert "Left out" not in release.card
    assert release.filters["include_empty_outputs"] is True


def test_the_page_the_api_and_the_command_line_each_offer_the_choice(
    client, project, admin_user, half_written, tmp_path
):
    client.force_login(admin_user)
    page = client.get(reverse("release_list", args=[project.slug])).content.decode()
    assert 'type="checkbox" name="include_empty_outputs"' in page
    assert "would hold 2 tasks" in _preview(client, project)
    assert "would hold 3 tasks" in _preview(client, project, include_empty_outputs="on")

    api = client.post(
        reverse("api_release_list", args=[project.slug]),
        {"format": "chat", "filters": {"include_empty_outputs": True}},
        content_type="application/json",
    )
    assert api.status_code == 202, api.content
    assert api.json()["filters"]["include_empty_outputs"] is True

    assert _export(project, tmp_path, "--include-empty-outputs") == (0, "")
    assert len((tmp_path / "out.jsonl").read_bytes().splitlines()) == 3


def test_include_empty_outputs_is_refused_for_a_format_it_does_not_apply_to(project, half_written):
    with pytest.raises(ValidationError) as refused:
        release_create(
            project=project, created_by=None, format="reviews", filters={"include_empty_outputs": True}, enqueue=False
        )

    assert refused.value.message_dict["include_empty_outputs"] == [
        "applies to the seed-task formats (alpaca, chat) only; leave it off for reviews"
    ]


def test_a_definition_whose_tasks_all_lack_an_output_is_refused_pointing_at_the_choice(project):
    SeedTaskFactory.create_batch(2, project=project, status=TaskStatus.ACCEPTED, reference_output="")

    with pytest.raises(ValidationError) as refused:
        release_create(project=project, created_by=None, format="alpaca", enqueue=False)

    assert "the 2 task(s) it selects have no reference output" in refused.value.message_dict["filters"][0]
    assert "include_empty_outputs" in refused.value.message_dict["filters"][0]
