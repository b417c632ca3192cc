"""No release holds an item with an open PHI finding or texts not scanned as they are now: through the
service, the command line and the API alike."""

import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from curation.models import Release, SeedTask, TaskStatus
from curation.models.phi import PhiFinding
from curation.services.phi import phi_finding_clear, phi_item_scan
from curation.services.releases import release_build, release_create
from curation.services.reviews import review_submit
from curation.text.hashing import content_hash
from tests.factories import ModelResponseFactory, PromptFactory, SeedTaskFactory
from tests.phi.conftest import CLEAN
from tests.reviews.test_services import RESPONSE_ANSWERS


def _rows(release: Release) -> list[dict]:
    release.refresh_from_db()
    assert release.status == "succeeded", release.error
    data = (Path(settings.MEDIA_ROOT) / release.file_path).read_text(encoding="utf-8")
    return [json.loads(line) for line in data.splitlines()]


def _build(project) -> Release:
    release = release_create(project=project, created_by=None, format="alpaca", enqueue=False)
    return release_build(release_id=release.pk)


def _changed_behind_the_scanners_back(task: SeedTask, instruction: str) -> None:
    """A change that no save hook saw (a database console, a future code path): the scan is stale."""
    SeedTask.objects.filter(pk=task.pk).update(
        instruction=instruction, content_hash=content_hash(instruction, task.input, task.reference_output)
    )


def test_the_service_leaves_out_a_task_with_an_open_finding(project, scanned_task, clean_task):
    rows = _rows(_build(project))

    assert [row["instruction"] for row in rows] == [CLEAN]


def test_a_task_whose_text_changed_since_its_scan_is_left_out_until_scanned_again(project, clean_task):
    other = SeedTaskFactory(project=project, status=TaskStatus.ACCEPTED, instruction="Define heart failure.")
    phi_item_scan(owner=other)
    _changed_behind_the_scanners_back(other, "Define heart failure with reduced ejection fraction.")
    other = SeedTask.objects.get(pk=other.pk)

    assert [row["instruction"] for row in _rows(_build(project))] == [CLEAN]

    phi_item_scan(owner=other)
    assert len(_rows(_build(project))) == 2


def test_a_project_whose_only_task_holds_phi_gives_no_release(project, scanned_task):
    with pytest.raises(ValidationError, match="no row"):
        release_create(project=project, created_by=None, format="alpaca", enqueue=False)


def test_clearing_every_finding_lets_the_task_into_the_next_release(project, scanned_task, curator):
    for finding in PhiFinding.objects.filter(item_task=scanned_task):
        phi_finding_clear(finding_id=finding.pk, curator=curator, reason="Teaching case, invented")

    assert [row["instruction"] for row in _rows(_build(project))] == [scanned_task.instruction]


def test_a_response_to_a_prompt_with_an_open_finding_is_left_out_of_a_review_release(project, clinician):
    answers = RESPONSE_ANSWERS
    prompts = [PromptFactory(project=project, instruction=text) for text in (CLEAN, "Mr. John Smith, DOB 03/14/1931.")]
    for prompt in prompts:
        response = ModelResponseFactory(seed_task=None, prompt=prompt, text="Start a beta blocker.")
        phi_item_scan(owner=prompt)
        phi_item_scan(owner=response)
        review_submit(reviewer=clinician, schema=project.response_schema, response=response, answers=answers)

    release = release_create(project=project, created_by=None, format="reviews", enqueue=False)
    rows = _rows(release_build(release_id=release.pk))

    assert rows and {row["prompt_id"] for row in rows} == {prompts[0].pk}


def test_the_command_line_exports_only_scanned_tasks_without_open_findings(project, scanned_task, clean_task, tmp_path):
    out = tmp_path / "out.jsonl"

    call_command(
        "export_dataset", "--project", project.slug, "--format", "alpaca", "--out", str(out), stdout=io.StringIO()
    )

    assert [json.loads(line)["instruction"] for line in out.read_text().splitlines()] == [CLEAN]


def test_the_api_builds_a_release_without_the_task_holding_phi(client, project, admin_user, scanned_task, clean_task):
    client.force_login(admin_user)

    response = client.post(
        reverse("api_release_list", args=[project.slug]), {"format": "alpaca"}, content_type="application/json"
    )

    assert response.status_code == 202, response.content
    release = release_build(release_id=response.json()["id"])
    assert [row["instruction"] for row in _rows(release)] == [CLEAN]
