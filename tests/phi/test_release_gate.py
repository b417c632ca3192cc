"""No release holds an item with an open PHI finding or texts not scanned as they are now: through the
service, the command line and the API alike."""

import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from curation.models import FlagKind, ItemFlag, Release, SeedTask, TaskStatus
from curation.models.phi import PhiFinding, PhiFindingState, PhiScan
from curation.phi import SCANNER_VERSION
from curation.services.phi import phi_item_scan
from curation.services.phi_findings import phi_finding_clear
from curation.services.releases import release_build, release_create
from curation.services.reviews import review_submit
from curation.text.hashing import content_hash
from tests.factories import ModelResponseFactory, PromptFactory, SeedTaskFactory
from tests.phi.conftest import CLEAN
from tests.reviews.test_services import RESPONSE_ANSWERS, SEED_ANSWERS


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


# --- Each rule of the gate, alone: what it leaves out of a review release and an alpaca release ---

TASK, ITS_RESPONSE, PROMPTS_RESPONSE = "task", "the task's response", "the prompt's response"


@pytest.fixture
def items(project, clinician):
    """An accepted task with a response, a test prompt with a response and a second task, all scanned
    clean, each reviewed once: a review release holds all four items, an alpaca release both tasks."""
    task = SeedTaskFactory(project=project, status=TaskStatus.ACCEPTED, instruction=CLEAN)
    other = SeedTaskFactory(project=project, status=TaskStatus.ACCEPTED, instruction="Define heart failure.")
    response = ModelResponseFactory(seed_task=task, text="Start a beta blocker.")
    prompt = PromptFactory(project=project, instruction="What lowers blood pressure?")
    answered = ModelResponseFactory(seed_task=None, prompt=prompt, text="Less salt.")
    reviews = {
        TASK: review_submit(reviewer=clinician, schema=project.seed_schema, seed_task=task, answers=SEED_ANSWERS),
        "other": review_submit(reviewer=clinician, schema=project.seed_schema, seed_task=other, answers=SEED_ANSWERS),
        ITS_RESPONSE: review_submit(
            reviewer=clinician, schema=project.response_schema, response=response, answers=RESPONSE_ANSWERS
        ),
        PROMPTS_RESPONSE: review_submit(
            reviewer=clinician, schema=project.response_schema, response=answered, answers=RESPONSE_ANSWERS
        ),
    }
    return SimpleNamespace(
        project=project, clinician=clinician, task=task, other=other, response=response, prompt=prompt,
        answered=answered, reviews=reviews,
        names={("seed_task", task.pk, None): TASK, ("seed_task", other.pk, None): "other",
               ("response", task.pk, response.pk): ITS_RESPONSE, ("response", None, answered.pk): PROMPTS_RESPONSE},
    )  # fmt: skip


def _open_finding(project, *, item_task=None, item_response=None, **owner) -> None:
    """An open finding in `owner`'s text (seed_task, prompt, response or review), without the flag the
    scanner would raise with it: the gate must keep the item out on the finding alone."""
    PhiFinding.objects.create(
        project=project, item_task=item_task, item_response=item_response, field="text", kind="NAME", start=0,
        end=4, span_hash="0" * 64, score=0.9, recognizer="test", scanner_version=SCANNER_VERSION, **owner,
    )  # fmt: skip


def _changed(item, **texts) -> None:
    """A text changed where no save hook saw it: its scan no longer matches."""
    type(item).objects.filter(pk=item.pk).update(content_hash="changed-" + "0" * 56, **texts)


def _review_scan_lost(review) -> None:
    PhiScan.objects.filter(review=review).delete()


SPOILERS = {
    "the task's text changed since its scan": (lambda w: _changed(w.task, instruction="Edited."), {TASK, ITS_RESPONSE}),
    "an open finding in the task": (
        lambda w: _open_finding(w.project, seed_task=w.task, item_task=w.task),
        {TASK, ITS_RESPONSE},
    ),
    "an open finding in a current review of the task": (
        lambda w: _open_finding(w.project, review=w.reviews[TASK], item_task=w.task),
        {TASK, ITS_RESPONSE},
    ),
    "a current review of the task not scanned": (lambda w: _review_scan_lost(w.reviews[TASK]), {TASK, ITS_RESPONSE}),
    "the task flagged unsafe": (
        lambda w: ItemFlag.objects.create(project=w.project, seed_task=w.task, kind=FlagKind.UNSAFE),
        {TASK, ITS_RESPONSE},
    ),
    "the response's text changed since its scan": (lambda w: _changed(w.response, text="Edited."), {ITS_RESPONSE}),
    "an open finding in the response": (
        lambda w: _open_finding(w.project, response=w.response, item_response=w.response),
        {ITS_RESPONSE},
    ),
    "a current review of the response not scanned": (
        lambda w: _review_scan_lost(w.reviews[ITS_RESPONSE]),
        {ITS_RESPONSE},
    ),
    "the response flagged for PHI": (
        lambda w: ItemFlag.objects.create(project=w.project, response=w.response, kind=FlagKind.PHI),
        {ITS_RESPONSE},
    ),
    "the prompt's text changed since its scan": (
        lambda w: _changed(w.prompt, instruction="Edited."),
        {PROMPTS_RESPONSE},
    ),
    "an open finding in the prompt": (lambda w: _open_finding(w.project, prompt=w.prompt), {PROMPTS_RESPONSE}),
    "a current review of the prompt's response not scanned": (
        lambda w: _review_scan_lost(w.reviews[PROMPTS_RESPONSE]),
        {PROMPTS_RESPONSE},
    ),
    "a finding cleared as not PHI": (
        lambda w: (
            _open_finding(w.project, seed_task=w.task, item_task=w.task)
            or PhiFinding.objects.update(state=PhiFindingState.CLEARED)
        ),
        set(),
    ),
    "a flag that does not block (needs a specialist)": (
        lambda w: ItemFlag.objects.create(project=w.project, seed_task=w.task, kind=FlagKind.NEEDS_SPECIALIST),
        set(),
    ),
    "a superseded review not scanned": (
        lambda w: (
            review_submit(reviewer=w.clinician, schema=w.project.seed_schema, seed_task=w.task, answers=SEED_ANSWERS)
            and _review_scan_lost(w.reviews[TASK])
        ),
        set(),
    ),
}


@pytest.mark.parametrize("spoiler", SPOILERS)
def test_each_rule_of_the_gate_leaves_out_the_item_it_names_and_only_that(items, spoiler):
    spoil, left_out = SPOILERS[spoiler]
    spoil(items)

    reviews = release_create(project=items.project, created_by=None, format="reviews", enqueue=False)
    kept = {
        items.names[(row["item_type"], row["task_id"], row["response_id"])]
        for row in _rows(release_build(release_id=reviews.pk))
    }
    tasks = [row["metadata"]["task_id"] for row in _rows(_build(items.project))]

    assert kept == {TASK, "other", ITS_RESPONSE, PROMPTS_RESPONSE} - left_out
    assert tasks == [task.pk for task in (items.task, items.other) if task != items.task or TASK not in left_out]
