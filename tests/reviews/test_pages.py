"""The review workspace as a clinician and a curator use it: queue, review pages, drafts, edits, flags, assigning."""

import re
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from curation.models import Assignment, AssignmentStatus, ItemFlag, Review, ReviewDraft, SeedTask
from curation.services.projects import rating_schema_create
from curation.services.seed_tasks import seed_task_edit
from tests.factories import (
    AssignmentFactory,
    ClinicianFactory,
    MembershipFactory,
    ModelResponseFactory,
    PromptFactory,
    SeedTaskFactory,
)
from tests.reviews.test_services import RESPONSE_ANSWERS, SEED_ANSWERS

HTMX = {"HX-Request": "true"}


def post_answers(answers: dict, **extra) -> dict:
    data = {f"a-{key}": value for key, value in answers.items()}
    data.update(extra)
    return data


@pytest.fixture
def assignment(project, clinician):
    task = SeedTaskFactory(
        project=project,
        instruction="Explain **orthostatic hypotension** to a patient.",
        input="Patient: 72-year-old who feels dizzy on standing.",
        reference_output="A fall in blood pressure on standing up.",
        topic_raw="Cardiology",
        view_raw="Patient",
        task_type_raw="Open Q&A",
        difficulty=2,
    )
    return AssignmentFactory(seed_task=task, reviewer=clinician)


def item_url(assignment, name="review_item"):
    return reverse(name, args=[assignment.project.slug, assignment.pk])


# --- queue and next -------------------------------------------------------------------------------


def test_my_queue_shows_my_items_and_progress_done_over_assigned(client, project, clinician, assignment):
    AssignmentFactory(seed_task=SeedTaskFactory(project=project), reviewer=clinician, status=AssignmentStatus.DONE)
    AssignmentFactory(seed_task=SeedTaskFactory(project=project, instruction="Someone else's item entirely."))
    client.force_login(clinician)
    body = client.get(reverse("review_queue", args=[project.slug])).content.decode()
    assert re.search(r'data-testid="done">1<.*data-testid="assigned">2<', body)
    assert "orthostatic hypotension" in body
    assert "Someone else" not in body


def test_the_queue_pages_through_htmx_as_a_fragment(client, project, clinician, assignment):
    client.force_login(clinician)
    body = client.get(reverse("review_queue", args=[project.slug]), headers=HTMX).content.decode()
    assert body.lstrip().startswith('<div id="queue">') and "<html" not in body


def test_start_opens_my_next_item(client, project, clinician, assignment):
    client.force_login(clinician)
    response = client.post(reverse("review_next", args=[project.slug]))
    assert response.status_code == 302 and response["Location"] == item_url(assignment)


def test_start_with_nothing_left_says_so(client, project, clinician):
    client.force_login(clinician)
    response = client.post(reverse("review_next", args=[project.slug]), follow=True)
    assert "Nothing left to review" in response.content.decode()


# --- the seed-task review page --------------------------------------------------------------------


def test_seed_task_page_shows_the_task_as_markdown_with_its_metadata_and_the_form(client, clinician, assignment):
    client.force_login(clinician)
    body = client.get(item_url(assignment)).content.decode()
    assert "<strong>orthostatic hypotension</strong>" in body
    assert "72-year-old" in body and "A fall in blood pressure" in body
    for text in ("Cardiology", "Patient", "Open Q&amp;A"):
        assert text in body
    for key in ("decision", "clinical_validity", "clarity", "difficulty", "comment"):
        assert f'name="a-{key}"' in body
    assert 'name="submission_key"' in body


def test_the_seed_task_page_has_one_flag_control_the_panel_that_raises_flags_at_once(client, clinician, assignment):
    client.force_login(clinician)
    body = client.get(item_url(assignment)).content.decode()
    assert 'name="a-flags"' not in body, "the form's own flags field would be a second way to flag"
    assert body.count('class="flag-form"') == 1 and f'action="{item_url(assignment, "review_flag")}"' in body
    # Submitting without the form's flags field is a complete review.
    done = client.post(item_url(assignment), post_answers(SEED_ANSWERS, submission_key=uuid.uuid4()))
    assert done.status_code == 302 and "flags" not in Review.objects.get(seed_task=assignment.seed_task).answers


def test_a_required_flags_field_a_curator_added_is_still_drawn(client, project, clinician, assignment):
    options = [{"value": "unsafe", "label": "Unsafe"}, {"value": "phi", "label": "PHI"}]
    definition = {
        "fields": [{"key": "flags", "label": "Flags", "kind": "multiple_choice", "required": True, "options": options}]
    }
    project.seed_schema = rating_schema_create(
        project=project, name="Seed review", target="seed_task", definition=definition
    )
    project.save(update_fields=["seed_schema"])
    client.force_login(clinician)
    assert 'name="a-flags"' in client.get(item_url(assignment)).content.decode()


def test_every_field_kind_of_a_schema_is_rendered_and_read_back(client, project, clinician, assignment):
    definition = {
        "fields": [
            {"key": "choice", "label": "Choice", "kind": "single_choice", "required": True,
             "options": [{"value": "x", "label": "Ex"}, {"value": "y", "label": "Why"}]},
            {"key": "many", "label": "Many", "kind": "multiple_choice",
             "options": [{"value": "p", "label": "P"}, {"value": "q", "label": "Q"}]},
            {"key": "scale", "label": "Scale", "kind": "ordinal_scale", "min": 0, "max": 3, "required": True},
            {"key": "amount", "label": "Amount", "kind": "number", "min": 0, "max": 10},
            {"key": "notes", "label": "Notes", "kind": "free_text", "max_length": 20},
            {"key": "pair", "label": "Pair", "kind": "pairwise_choice"},
            {"key": "rubric", "label": "Rubric", "kind": "rubric",
             "criteria": [{"key": "cites", "label": "Cites"}, {"key": "safe", "label": "Safe"}]},
        ]
    }  # fmt: skip
    project.seed_schema = rating_schema_create(
        project=project, name="All kinds", target="seed_task", definition=definition
    )
    project.save(update_fields=["seed_schema"])
    client.force_login(clinician)
    body = client.get(item_url(assignment)).content.decode()
    for name, kind in (("choice", "radio"), ("many", "checkbox"), ("scale", "radio"), ("pair", "radio"),
                       ("rubric", "checkbox")):  # fmt: skip
        assert re.search(rf'type="{kind}" name="a-{name}"', body), name
    assert 'type="number" step="any" name="a-amount"' in body and 'name="a-notes"' in body

    bad = client.post(item_url(assignment), {"a-choice": "x", "a-scale": "2", "a-amount": "eleven", "a-notes": "n" * 30,
                                             "submission_key": uuid.uuid4()})  # fmt: skip
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "Amount must be a finite number" in text and "Notes must be at most 20 characters" in text
    good = client.post(
        item_url(assignment),
        {"a-choice": "y", "a-many": ["p", "q"], "a-scale": "0", "a-amount": "2.5", "a-pair": "tie",
         "a-rubric": "safe", "a-notes": "fine", "submission_key": uuid.uuid4()},
    )  # fmt: skip
    assert good.status_code == 302
    assert Review.objects.get().answers == {
        "choice": "y", "many": ["p", "q"], "scale": 0, "amount": 2.5, "notes": "fine", "pair": "tie", "rubric": ["safe"]
    }  # fmt: skip


def test_submitting_opens_the_next_item_and_a_double_submit_makes_one_review(client, project, clinician, assignment):
    following = AssignmentFactory(seed_task=SeedTaskFactory(project=project), reviewer=clinician)
    client.force_login(clinician)
    data = post_answers(SEED_ANSWERS, submission_key=str(uuid.uuid4()))
    first = client.post(item_url(assignment), data)
    second = client.post(item_url(assignment), data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == item_url(following)
    assert Review.objects.count() == 1
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.DONE


def test_a_missing_required_answer_is_named_and_nothing_is_recorded(client, clinician, assignment):
    client.force_login(clinician)
    response = client.post(
        item_url(assignment), post_answers({"decision": "accept", "comment": "kept"}, submission_key=uuid.uuid4())
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Clinical validity is required" in body and "Clarity is required" in body
    assert ">kept</textarea>" in body, "what was entered is kept"
    assert not Review.objects.exists()


def test_a_draft_saves_itself_as_a_fragment_and_comes_back_on_reload(client, clinician, assignment):
    client.force_login(clinician)
    saved = client.post(
        item_url(assignment, "review_draft"), post_answers({"clarity": 4, "comment": "so far"}), headers=HTMX
    )
    fragment = saved.content.decode()
    assert saved.status_code == 200 and "Draft saved" in fragment and "<html" not in fragment
    assert ReviewDraft.objects.get().answers == {"clarity": 4, "comment": "so far"}
    body = client.get(item_url(assignment)).content.decode()
    assert re.search(r'name="a-clarity" value="4" checked', body)
    assert ">so far</textarea>" in body


# --- editing the task in place --------------------------------------------------------------------


def test_editing_in_place_needs_a_rationale_and_becomes_a_revision(client, clinician, assignment):
    client.force_login(clinician)
    task = assignment.seed_task
    form = client.get(item_url(assignment, "review_task_edit"), headers=HTMX).content.decode()
    assert form.lstrip().startswith('<section id="task-panel"') and "rationale" in form

    edit = {"instruction": task.instruction, "input": task.input, "reference_output": "A drop of 20/10 on standing.",
            "topic_raw": task.topic_raw, "view_raw": task.view_raw, "task_type_raw": task.task_type_raw,
            "difficulty": "2", "version": task.version}  # fmt: skip
    refused = client.post(item_url(assignment, "review_task_edit"), {**edit, "rationale": ""}, headers=HTMX)
    assert "This field is required" in refused.content.decode()
    assert SeedTask.objects.get(pk=task.pk).version == 1

    saved = client.post(item_url(assignment, "review_task_edit"), {**edit, "rationale": "Use the consensus threshold"},
                        headers=HTMX)  # fmt: skip
    assert "Edit saved as version 2" in saved.content.decode()
    assert saved.headers.get("HX-Trigger")
    history = SeedTask.objects.get(pk=task.pk).history.first()
    assert history.history_change_reason == "Use the consensus threshold"


def test_a_stale_edit_shows_both_versions_and_loses_nothing(client, project, clinician, curator, assignment):
    task = assignment.seed_task
    client.force_login(clinician)
    seed_task_edit(task_id=task.pk, editor=curator, expected_version=1, changes={"reference_output": "Theirs."},
                   rationale="curator fix")  # fmt: skip
    mine = {"instruction": task.instruction, "input": task.input, "reference_output": "Mine, carefully written.",
            "topic_raw": task.topic_raw, "view_raw": task.view_raw, "task_type_raw": task.task_type_raw,
            "difficulty": "2", "version": 1, "rationale": "my reason"}  # fmt: skip
    fragment = client.post(item_url(assignment, "review_task_edit"), mine, headers=HTMX).content.decode()
    assert 'data-testid="conflict"' in fragment
    assert "Theirs." in fragment and fragment.count("Mine, carefully written.") >= 2, "in the comparison and the form"
    assert 'name="version" value="2"' in fragment
    assert SeedTask.objects.get(pk=task.pk).reference_output == "Theirs."
    page = client.post(item_url(assignment, "review_task_edit"), mine)
    assert page.status_code == 409 and "<html" in page.content.decode()


# --- the response review page ---------------------------------------------------------------------


def test_response_page_shows_prompt_and_response_without_the_model_name(client, project, clinician):
    prompt = PromptFactory(project=project, instruction="What is a normal resting heart rate?", input="")
    response = ModelResponseFactory(seed_task=None, prompt=prompt, model_name="secretmodel-70b", model_version="9.9",
                                    text="Sixty to one hundred beats per minute.")  # fmt: skip
    assignment = AssignmentFactory(seed_task=None, response=response, reviewer=clinician)
    client.force_login(clinician)
    body = client.get(item_url(assignment)).content.decode()
    assert "normal resting heart rate" in body and "Sixty to one hundred" in body
    assert "secretmodel" not in body and "9.9" not in body
    for key in RESPONSE_ANSWERS:
        assert f'name="a-{key}"' in body
    api = client.post(reverse("api_review_next", args=[project.slug])).content.decode()
    assert "Sixty to one hundred" in api and "secretmodel" not in api


def test_the_response_page_shows_the_tasks_reference_output_in_a_collapsible_panel(client, project, clinician):
    task = SeedTaskFactory(project=project, reference_output="Rest, fluids and **paracetamol**.")
    response = ModelResponseFactory(seed_task=task, text="Give aspirin to the child.")
    assignment = AssignmentFactory(seed_task=None, response=response, reviewer=clinician)
    client.force_login(clinician)
    body = client.get(item_url(assignment)).content.decode()
    panel = re.search(r'<details class="panel reference" id="reference-output" open>(.*?)</details>', body, re.S)
    assert panel and "<strong>paracetamol</strong>" in panel.group(1)


def test_a_response_to_a_test_prompt_says_it_has_no_reference_output(client, project, clinician):
    response = ModelResponseFactory(seed_task=None, prompt=PromptFactory(project=project), text="An answer.")
    assignment = AssignmentFactory(seed_task=None, response=response, reviewer=clinician)
    client.force_login(clinician)
    assert "has no reference output" in client.get(item_url(assignment)).content.decode()


def test_a_corrected_response_is_kept_beside_the_original_with_its_edit_distance(client, project, clinician):
    response = ModelResponseFactory(seed_task=SeedTaskFactory(project=project), text="Give aspirin to the child.")
    assignment = AssignmentFactory(seed_task=None, response=response, reviewer=clinician)
    client.force_login(clinician)
    corrected = "Give paracetamol to the child, never aspirin."
    draft = client.post(
        item_url(assignment, "review_draft"), {"corrected_text": corrected}, headers=HTMX
    ).content.decode()
    assert re.search(r'<span id="edit-distance" hx-swap-oob="true">4</span>', draft)
    client.post(
        item_url(assignment), post_answers(RESPONSE_ANSWERS, corrected_text=corrected, submission_key=uuid.uuid4())
    )
    assert Review.objects.get().corrected_text == corrected
    body = client.get(item_url(assignment)).content.decode()
    assert "Give aspirin to the child." in body and corrected in body


def test_an_unchanged_correction_records_no_correction(client, project, clinician):
    response = ModelResponseFactory(seed_task=SeedTaskFactory(project=project), text="Fine as it is.")
    assignment = AssignmentFactory(seed_task=None, response=response, reviewer=clinician)
    client.force_login(clinician)
    client.post(
        item_url(assignment),
        post_answers(RESPONSE_ANSWERS, corrected_text="Fine as it is.", submission_key=uuid.uuid4()),
    )
    assert Review.objects.get().corrected_text == ""


def test_an_unchanged_correction_sent_through_the_api_records_no_correction_either(client, project, clinician):
    response = ModelResponseFactory(seed_task=SeedTaskFactory(project=project), text="Fine as it is.")
    assignment = AssignmentFactory(seed_task=None, response=response, reviewer=clinician)
    client.force_login(clinician)
    submitted = client.post(
        reverse("api_review_submit", args=[project.slug]),
        {
            "assignment": assignment.pk,
            "answers": RESPONSE_ANSWERS,
            "corrected_text": "Fine as it is.\n",
            "submission_key": str(uuid.uuid4()),
        },
        content_type="application/json",
    )
    assert submitted.status_code == 201 and submitted.json()["corrected_text"] == ""
    assert Review.objects.get().corrected_text == ""


def test_a_seed_task_review_through_the_api_may_send_an_empty_correction_as_the_page_does(
    client, project, clinician, assignment
):
    client.force_login(clinician)
    submitted = client.post(
        reverse("api_review_submit", args=[project.slug]),
        {
            "assignment": assignment.pk,
            "answers": SEED_ANSWERS,
            "corrected_text": " ",
            "submission_key": str(uuid.uuid4()),
        },
        content_type="application/json",
    )
    assert submitted.status_code == 201 and Review.objects.get().corrected_text == ""


# --- flags, attention list, assigning -------------------------------------------------------------


def test_a_flag_raised_on_an_item_reaches_the_curators_attention_list(client, project, clinician, curator, assignment):
    client.force_login(clinician)
    fragment = client.post(item_url(assignment, "review_flag"), {"kind": "phi", "note": "Names the patient"},
                           headers=HTMX).content.decode()  # fmt: skip
    assert fragment.lstrip().startswith('<section id="flags"') and "Contains PHI" in fragment
    assert client.get(reverse("attention_list", args=[project.slug])).status_code == 403
    client.force_login(curator)
    body = client.get(reverse("attention_list", args=[project.slug])).content.decode()
    assert "Names the patient" in body and "Contains PHI" in body


def test_a_curator_clears_a_flag_with_a_note_and_it_leaves_the_list(client, project, clinician, curator, assignment):
    flag = ItemFlag.objects.create(project=project, seed_task=assignment.seed_task, kind="unsafe", raised_by=clinician)
    client.force_login(curator)
    url = reverse("flag_clear", args=[project.slug, flag.pk])
    client.post(url, {"note": ""})
    flag.refresh_from_db()
    assert flag.cleared_at is None
    client.post(url, {"note": "Reference output rewritten"})
    flag.refresh_from_db()
    assert (
        flag.cleared_by == curator
        and "Nothing needs attention" in client.get(reverse("attention_list", args=[project.slug])).content.decode()
    )


def test_a_curator_assigns_by_filter_to_chosen_clinicians_with_k(client, project, clinician, curator):
    other = ClinicianFactory()
    MembershipFactory(project=project, user=other)
    for difficulty in (1, 1, 5):
        SeedTaskFactory(project=project, difficulty=difficulty)
    client.force_login(curator)
    url = reverse("assign", args=[project.slug])
    page = client.get(url).content.decode()
    assert clinician.name in page and other.name in page
    response = client.post(url, {"kind": "seed_task", "difficulty": "1", "limit": "100",
                                 "reviewers": [clinician.pk, other.pk], "k": "2"}, follow=True)  # fmt: skip
    assert "4 assignments made on 2 items" in response.content.decode()
    assert Assignment.objects.count() == 4


def test_a_curator_assigns_a_selection_and_bad_ids_are_named(client, project, clinician, curator):
    task = SeedTaskFactory(project=project)
    client.force_login(curator)
    url = reverse("assign", args=[project.slug])
    bad = client.post(url, {"kind": "seed_task", "selection": f"{task.pk}, twelve", "limit": "10",
                            "reviewers": [clinician.pk], "k": "1"})  # fmt: skip
    assert bad.status_code == 400 and "Not item ids: twelve" in bad.content.decode()
    missing = client.post(url, {"kind": "seed_task", "selection": "999999", "limit": "10",
                                "reviewers": [clinician.pk], "k": "1"})  # fmt: skip
    assert missing.status_code == 400 and "999999" in missing.content.decode()
    assert not Assignment.objects.exists()
    client.post(
        url, {"kind": "seed_task", "selection": str(task.pk), "limit": "10", "reviewers": [clinician.pk], "k": "1"}
    )
    assert Assignment.objects.get().seed_task == task


# --- API ------------------------------------------------------------------------------------------


def test_api_next_submit_is_idempotent_and_my_reviews_are_mine_only(client, project, clinician, assignment):
    other = AssignmentFactory(seed_task=assignment.seed_task)
    Review.objects.create(project=project, schema=project.seed_schema, reviewer=other.reviewer,
                          seed_task=assignment.seed_task, answers={"comment": "theirs"})  # fmt: skip
    client.force_login(clinician)
    item = client.post(reverse("api_review_next", args=[project.slug])).json()
    assert item["assignment"] == assignment.pk and item["kind"] == "seed_task"
    assert item["schema"]["definition"]["fields"][0]["key"] == "decision" and item["draft"] is None

    url = reverse("api_review_submit", args=[project.slug])
    payload = {"assignment": assignment.pk, "answers": SEED_ANSWERS, "submission_key": str(uuid.uuid4())}
    first = client.post(url, payload, content_type="application/json")
    again = client.post(url, payload, content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    refused = client.post(url, {**payload, "submission_key": str(uuid.uuid4()), "answers": {"decision": "maybe"}},
                          content_type="application/json")  # fmt: skip
    assert refused.status_code == 400 and refused.json()["answers"]["decision"] == [
        "must be one of accept, accept_with_edits, reject"
    ]

    mine = client.get(reverse("api_my_reviews", args=[project.slug])).json()
    assert [r["id"] for r in mine["results"]] == [first.json()["id"]]
    assert "theirs" not in str(mine)


def test_api_submit_on_someone_elses_assignment_is_not_found(client, project, clinician):
    theirs = AssignmentFactory(seed_task=SeedTaskFactory(project=project))
    client.force_login(clinician)
    response = client.post(
        reverse("api_review_submit", args=[project.slug]),
        {"assignment": theirs.pk, "answers": SEED_ANSWERS, "submission_key": str(uuid.uuid4())},
        content_type="application/json",
    )
    assert response.status_code == 404 and not Review.objects.exists()


def test_a_rationale_too_long_for_the_history_is_refused_with_a_reason(client, clinician, assignment):
    task = assignment.seed_task
    with pytest.raises(ValidationError, match="Keep it to 100 characters"):
        seed_task_edit(
            task_id=task.pk, editor=clinician, expected_version=1, changes={"difficulty": 5}, rationale="x" * 101
        )
    assert SeedTask.objects.get(pk=task.pk).version == 1
