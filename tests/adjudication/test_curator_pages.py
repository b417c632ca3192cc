"""What a curator meets while settling items: saving moves on, counts that match the view, an unsafe
item never prefilled with a benign majority, and corrections read side by side."""

import re

import pytest
from django.urls import reverse

from curation.models import FLAG_ANSWER_FIELD, FlagKind, ItemFlag, SeedTask
from curation.selectors.adjudication import disagreements_detect
from curation.selectors.adjudication_item import value_labels
from curation.services.disagreements import disagreements_refresh
from curation.services.reviews import review_submit
from curation.text.diffs import side_by_side_diff_html
from tests.adjudication.answers import RESPONSE_AGREED, SEED_AGREED
from tests.factories import ClinicianFactory, MembershipFactory, ModelResponseFactory, SeedTaskFactory

AGREED = SEED_AGREED
RESPONSE_ANSWERS = RESPONSE_AGREED


def member(project, name):
    user = ClinicianFactory(name=name)
    MembershipFactory(project=project, user=user)
    return user


@pytest.fixture
def reviewers(project):
    return [member(project, name) for name in ("Dr. Alpha", "Dr. Beta", "Dr. Gamma")]


def rate(reviewer, task, **changes):
    return review_submit(
        reviewer=reviewer, schema=task.project.seed_schema, seed_task=task, answers={**AGREED, **changes}
    )


def dispute(task, reviewers, low, high):
    rate(reviewers[0], task, clinical_validity=low)
    rate(reviewers[1], task, clinical_validity=high)


def gold_post(project, version=0, validity="3"):
    return {
        "schema": project.seed_schema.pk,
        "version": str(version),
        "gold_decision": "accept",
        "gold_clinical_validity": validity,
        "gold_clarity": "4",
        "gold_difficulty": "3",
        "reason": "reviewer_error",
    }


def queue_count(client, project, query=""):
    page = client.get(reverse("adjudication_queue", args=[project.slug]) + query)
    found = re.search(r'data-testid="queue-count">([^<]*)<', page.content.decode())
    return " ".join(found.group(1).split()), page.content.decode().count('data-testid="queue-row"')


# --- saving moves on --------------------------------------------------------------------------------


def test_saving_a_gold_label_opens_the_next_item_in_the_queue_and_says_which_was_saved(
    client, project, reviewers, curator
):
    widest, narrower = SeedTaskFactory(project=project), SeedTaskFactory(project=project)
    dispute(widest, reviewers, 1, 5)
    dispute(narrower, reviewers, 2, 5)
    disagreements_refresh(project=project)
    client.force_login(curator)

    saved = client.post(reverse("adjudicate_task", args=[project.slug, widest.pk]), gold_post(project))

    assert saved.status_code == 302
    assert saved.url == reverse("adjudicate_task", args=[project.slug, narrower.pk]) + (
        f"?schema={project.seed_schema.pk}"
    )
    page = client.get(saved.url).content.decode()
    assert f"Gold label v1 saved for task {widest.pk}." in page
    assert f"Next: task {narrower.pk}." in page
    assert f"Adjudicate task {narrower.pk}" in page


def test_saving_the_last_item_to_settle_returns_to_the_queue(client, project, reviewers, curator):
    task = SeedTaskFactory(project=project)
    dispute(task, reviewers, 1, 5)
    client.force_login(curator)

    saved = client.post(reverse("adjudicate_task", args=[project.slug, task.pk]), gold_post(project), follow=True)

    assert saved.redirect_chain[-1][0] == reverse("adjudication_queue", args=[project.slug])
    body = saved.content.decode()
    assert f"Gold label v1 saved for task {task.pk}. The reviews it settled are unchanged." in body
    assert "Nothing else is left to settle." in body


# --- counts that match the view ---------------------------------------------------------------------


def test_the_queue_counts_items_to_settle_and_settled_ones_apart_in_both_views(client, project, reviewers, curator):
    first, second, third = (SeedTaskFactory(project=project) for _ in range(3))
    for task in (first, second, third):
        dispute(task, reviewers, 1, 5)
    disagreements_refresh(project=project)
    client.force_login(curator)
    # The queue a worker found shows the item settled at once, without searching the project again.
    client.post(reverse("adjudicate_task", args=[project.slug, first.pk]), gold_post(project))

    assert queue_count(client, project) == ("2 items to settle (1 settled hidden), most severe first", 2)
    assert queue_count(client, project, "?settled=1") == (
        "2 items to settle and 1 settled shown with them, most severe first",
        3,
    )


# --- an unsafe item starts empty --------------------------------------------------------------------


def gold_form_of(page):
    body = page.content.decode()
    return body[body.index('data-testid="gold-form"') :]


def test_an_item_a_reviewer_flagged_unsafe_starts_with_an_empty_gold_form_and_the_flag_in_view(
    client, project, reviewers, curator
):
    task = SeedTaskFactory(project=project)
    rate(reviewers[0], task)
    rate(reviewers[1], task)
    rate(reviewers[2], task, clinical_validity=1, decision="reject", flags=["unsafe"])
    client.force_login(curator)

    page = client.get(reverse("adjudicate_task", args=[project.slug, task.pk]))

    assert all(field["value"] == "" for field in page.context["inputs"] if field["key"] != "flags")
    assert not any(option["selected"] for field in page.context["inputs"] for option in field.get("options", []))
    form = gold_form_of(page)
    assert " checked" not in form.split('data-testid="save-gold"')[0]
    assert 'data-testid="gold-safety"' in form and "Safety flag: Unsafe" in form


def test_an_open_unsafe_flag_on_a_response_also_keeps_its_gold_form_empty(client, project, reviewers, curator):
    response = ModelResponseFactory(seed_task=SeedTaskFactory(project=project))
    for reviewer in reviewers[:2]:
        review_submit(reviewer=reviewer, schema=project.response_schema, response=response, answers=RESPONSE_ANSWERS)
    ItemFlag.objects.create(project=project, response=response, kind=FlagKind.UNSAFE, raised_by=reviewers[2])
    client.force_login(curator)

    page = client.get(reverse("adjudicate_response", args=[project.slug, response.pk]))

    assert not any(option["selected"] for field in page.context["inputs"] for option in field.get("options", []))
    assert 'data-testid="gold-safety"' in gold_form_of(page)


def test_an_item_without_a_safety_flag_is_still_prefilled_with_the_majority(client, project, reviewers, curator):
    task = SeedTaskFactory(project=project)
    rate(reviewers[0], task, clinical_validity=2)
    rate(reviewers[1], task)
    rate(reviewers[2], task)
    client.force_login(curator)

    page = client.get(reverse("adjudicate_task", args=[project.slug, task.pk]))

    validity = next(f for f in page.context["inputs"] if f["key"] == "clinical_validity")
    assert validity["value"] == 4
    assert 'data-testid="gold-safety"' not in gold_form_of(page)


# --- corrections side by side -----------------------------------------------------------------------


def test_a_side_by_side_diff_marks_removals_in_the_original_and_additions_in_the_correction():
    before, after = side_by_side_diff_html(
        "Take 1,000 mg every 4 hours, up to 6,000 mg a day.", "Take 1,000 mg every 6 hours, up to 3,000 mg a day."
    )

    assert before == "Take 1,000 mg every <del>4</del> hours, up to <del>6,000</del> mg a day."
    assert after == "Take 1,000 mg every <ins>6</ins> hours, up to <ins>3,000</ins> mg a day."


def test_a_side_by_side_diff_escapes_both_sides():
    before, after = side_by_side_diff_html("<b>old</b> text", "<script>new</script> text")

    assert "<b>" not in before and "&lt;b&gt;old&lt;/b&gt;" in before
    assert "<script>" not in after and "&lt;script&gt;new&lt;/script&gt;" in after


def test_a_rewritten_correction_shows_original_and_correction_in_two_columns(client, project, reviewers, curator):
    response = ModelResponseFactory(
        seed_task=SeedTaskFactory(project=project), text="Give aspirin every 4 hours for the fever."
    )
    review_submit(
        reviewer=reviewers[0],
        schema=project.response_schema,
        response=response,
        answers={**RESPONSE_ANSWERS, "correctness": 1},
        corrected_text="Give acetaminophen every 6 hours for the fever; never aspirin in children.",
    )
    review_submit(reviewer=reviewers[1], schema=project.response_schema, response=response, answers=RESPONSE_ANSWERS)
    client.force_login(curator)

    body = client.get(reverse("adjudicate_response", args=[project.slug, response.pk])).content.decode()

    before = re.search(r'data-testid="diff-before">(.*?)</pre>', body, re.S).group(1)
    after = re.search(r'data-testid="diff-after">(.*?)</pre>', body, re.S).group(1)
    assert "<del>aspirin</del>" in before and "<ins>" not in before
    assert "<ins>acetaminophen</ins>" in after and "<del>" not in after
    assert "never aspirin in children" in re.sub(r"</?ins>", "", after)


# --- one definition each ----------------------------------------------------------------------------


def test_the_gold_form_and_the_reviews_table_name_every_value_in_the_same_words(client, project, reviewers, curator):
    task = SeedTaskFactory(project=project)
    dispute(task, reviewers, 1, 5)
    client.force_login(curator)

    page = client.get(reverse("adjudicate_task", args=[project.slug, task.pk]))

    for schema_field, entry in zip(project.seed_schema.fields, page.context["inputs"], strict=True):
        if "options" in entry:
            assert {o["value"]: o["label"] for o in entry["options"]} == value_labels(schema_field)
    validity = next(row for row in page.context["rows"] if row["key"] == "clinical_validity")
    assert validity["cells"] == ["1 (wrong or unsafe)", "5 (fully valid)"]


def test_a_flag_chosen_in_the_reviews_flag_field_reaches_the_queue_as_a_safety_reason(project, reviewers):
    task = SeedTaskFactory(project=project)
    rate(reviewers[0], task, **{FLAG_ANSWER_FIELD: ["unsafe"]})

    [found] = disagreements_detect(project=project)
    assert found.safety == ["Safety flag: Unsafe"]


def test_a_stale_bulk_confirmation_changes_nothing_and_shows_a_fresh_preview(client, project, curator):
    tasks = [SeedTaskFactory(project=project) for _ in range(2)]
    before = {t.pk: t.status for t in tasks}
    client.force_login(curator)
    url = reverse("bulk_decide", args=[project.slug])

    page = client.post(url, {"action": "accepted", "skip_disputed": "on", "fingerprint": "stale"})

    assert page.status_code == 409
    assert "The filter now selects a different set of tasks (2)" in page.content.decode()
    assert page.context["preview"].task_ids == [t.pk for t in tasks]
    assert {t.pk: t.status for t in SeedTask.objects.filter(project=project)} == before
