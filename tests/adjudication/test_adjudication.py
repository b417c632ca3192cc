"""Disagreement detection, gold labels, dynamic overlap and audited dataset decisions."""

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from curation.models import (
    AcceptanceEvent,
    AcceptanceMode,
    AdjudicationSettings,
    Assignment,
    AssignmentStatus,
    DisagreementRule,
    GoldLabel,
    ItemFlag,
    Review,
    TaskStatus,
)
from curation.selectors import dataset_decisions as dataset_decision_selectors
from curation.selectors.adjudication import disagreements_detect
from curation.selectors.dataset_decisions import seed_tasks_decision_preview, seed_tasks_matching
from curation.services import dataset_decisions as dataset_decision_services
from curation.services.adjudication import AdjudicationConflict, adjudication_settings_update, gold_label_adjudicate
from curation.services.dataset_decisions import seed_task_decide, seed_tasks_decide_by_filter
from curation.services.disagreements import disagreements_refresh
from curation.services.dynamic_overlap import overlap_extend
from curation.services.reviews import review_submit
from curation.stats.disagreement import majority_answers
from tests.adjudication.answers import RESPONSE_AGREED, SEED_AGREED
from tests.factories import (
    AssignmentFactory,
    ClinicianFactory,
    CuratorFactory,
    MembershipFactory,
    ModelResponseFactory,
    ProjectFactory,
    SeedTaskFactory,
)
from tests.markers import on_postgres

AGREED = SEED_AGREED


def rate(reviewer, task, **changes):
    return review_submit(
        reviewer=reviewer, schema=task.project.seed_schema, seed_task=task, answers={**AGREED, **changes}
    )


def set_rule(project, rule=DisagreementRule.SPREAD, min_spread=2, dynamic_overlap=False):
    AdjudicationSettings.objects.update_or_create(
        project=project, defaults={"rule": rule, "min_spread": min_spread, "dynamic_overlap": dynamic_overlap}
    )


def member(project, **fields):
    user = ClinicianFactory(**fields)
    MembershipFactory(project=project, user=user)
    return user


@pytest.fixture
def reviewers(project):
    return member(project, name="Dr. Alpha"), member(project, name="Dr. Beta")


def adjudicate(task, curator, expected_version=0, **overrides):
    fields = {
        "project": task.project,
        "schema": task.project.seed_schema,
        "seed_task": task,
        "adjudicator": curator,
        "values": {**AGREED, "clinical_validity": 3},
        "reason": "clinical_ambiguity",
        "note": "Both readings are defensible; the guideline favours 3.",
        "expected_version": expected_version,
    }
    return gold_label_adjudicate(**{**fields, **overrides})


# --- the rule ---------------------------------------------------------------------------------------


def test_a_spread_of_two_on_a_five_point_scale_fires_under_the_spread_rule(project, task, reviewers):
    set_rule(project, DisagreementRule.SPREAD, min_spread=2)
    rate(reviewers[0], task, clinical_validity=2)
    rate(reviewers[1], task, clinical_validity=4)

    [found] = disagreements_detect(project=project)

    assert found.seed_task == task
    assert [(f.key, f.spread) for f in found.fields] == [("clinical_validity", 2)]
    assert found.reasons == ["Clinical validity: 2, 4 (spread 2)"]


def test_a_spread_of_one_does_not_fire_under_the_spread_rule(project, task, reviewers):
    set_rule(project, DisagreementRule.SPREAD, min_spread=2)
    rate(reviewers[0], task, clinical_validity=3)
    rate(reviewers[1], task, clinical_validity=4)

    assert disagreements_detect(project=project) == []


def test_a_spread_of_one_fires_under_the_any_disagreement_rule(project, task, reviewers):
    set_rule(project, DisagreementRule.ANY)
    rate(reviewers[0], task, clinical_validity=3)
    rate(reviewers[1], task, clinical_validity=4)

    [found] = disagreements_detect(project=project)
    assert found.fields[0].key == "clinical_validity"


def test_differing_choices_fire_under_the_spread_rule(project, task, reviewers):
    set_rule(project, DisagreementRule.SPREAD)
    rate(reviewers[0], task, decision="accept")
    rate(reviewers[1], task, decision="reject")

    [found] = disagreements_detect(project=project)
    assert [f.key for f in found.fields] == ["decision"]


def test_free_text_comments_never_count_as_disagreement(project, task, reviewers):
    set_rule(project, DisagreementRule.ANY)
    rate(reviewers[0], task, comment="fine")
    rate(reviewers[1], task, comment="looks good to me")

    assert disagreements_detect(project=project) == []


def test_a_safety_flag_in_one_review_fires_even_when_the_ratings_agree(project, task, reviewers):
    set_rule(project, DisagreementRule.SPREAD)
    rate(reviewers[0], task, flags=["unsafe"])
    rate(reviewers[1], task)

    [found] = disagreements_detect(project=project)
    assert found.safety == ["Safety flag: Unsafe"]
    assert found.level == "safety"


def test_an_open_phi_flag_fires_with_a_single_review_and_a_cleared_one_does_not(project, task, reviewers):
    rate(reviewers[0], task)
    flag = ItemFlag.objects.create(project=project, seed_task=task, kind="phi", raised_by=reviewers[0])

    [found] = disagreements_detect(project=project)
    assert found.safety == ["Safety flag: Contains PHI"]

    flag.cleared_at = timezone.now()
    flag.save(update_fields=["cleared_at"])
    assert disagreements_detect(project=project) == []


def test_the_safety_rule_ignores_rating_disagreements_but_not_flags(project, reviewers):
    set_rule(project, DisagreementRule.SAFETY)
    quarrel, flagged = SeedTaskFactory(project=project), SeedTaskFactory(project=project)
    rate(reviewers[0], quarrel, clinical_validity=1)
    rate(reviewers[1], quarrel, clinical_validity=5)
    rate(reviewers[0], flagged, flags=["phi"])

    assert [d.seed_task for d in disagreements_detect(project=project)] == [flagged]


def test_the_queue_lists_safety_first_then_the_widest_disagreement(project, reviewers):
    set_rule(project, DisagreementRule.SPREAD)
    narrow, wide, unsafe = (SeedTaskFactory(project=project) for _ in range(3))
    rate(reviewers[0], narrow, clarity=2)
    rate(reviewers[1], narrow, clarity=4)
    rate(reviewers[0], wide, clarity=1)
    rate(reviewers[1], wide, clarity=5)
    rate(reviewers[0], unsafe, flags=["unsafe"])
    rate(reviewers[1], unsafe)

    assert [d.seed_task for d in disagreements_detect(project=project)] == [unsafe, wide, narrow]


def test_ordinal_choices_on_a_response_are_compared_by_rank(project, reviewers):
    set_rule(project, DisagreementRule.SPREAD, min_spread=2)
    response = ModelResponseFactory(seed_task=SeedTaskFactory(project=project))
    base = dict(RESPONSE_AGREED)
    review_submit(reviewer=reviewers[0], schema=project.response_schema, response=response, answers=base)
    review_submit(
        reviewer=reviewers[1],
        schema=project.response_schema,
        response=response,
        answers={**base, "harm_extent": "severe", "harm_likelihood": "medium"},
    )

    [found] = disagreements_detect(project=project)
    assert [(f.key, f.spread) for f in found.fields] == [("harm_extent", 2)]


# --- gold labels ------------------------------------------------------------------------------------


def test_the_gold_label_links_the_reviews_it_settled_and_keeps_their_distribution(project, task, reviewers, curator):
    first = rate(reviewers[0], task, clinical_validity=2)
    second = rate(reviewers[1], task, clinical_validity=5)

    gold = adjudicate(task, curator)

    assert sorted(r.pk for r in gold.reviews.all()) == [first.pk, second.pk]
    assert gold.soft_label["clinical_validity"] == {"n": 2, "counts": {"2": 1, "5": 1}}
    assert gold.soft_label["decision"] == {"n": 2, "counts": {"accept": 2}}
    assert "comment" not in gold.soft_label
    assert gold.values["clinical_validity"] == 3
    assert (gold.reason, gold.version, gold.adjudicated_by) == ("clinical_ambiguity", 1, curator)


def test_adjudicating_never_changes_the_raw_reviews(project, task, reviewers, curator):
    rate(reviewers[0], task, clinical_validity=2)
    rate(reviewers[1], task, clinical_validity=5)
    before = list(Review.objects.order_by("id").values())

    adjudicate(task, curator)
    adjudicate(task, curator, expected_version=1, values={**AGREED, "clinical_validity": 2})

    assert list(Review.objects.order_by("id").values()) == before


def test_a_gold_value_outside_the_form_is_refused_and_nothing_is_saved(project, task, reviewers, curator):
    rate(reviewers[0], task)
    with pytest.raises(ValidationError) as caught:
        adjudicate(task, curator, values={**AGREED, "clinical_validity": 9, "made_up": 1})
    assert set(caught.value.message_dict) == {"clinical_validity", "made_up"}
    assert not GoldLabel.objects.exists()


def test_a_gold_label_needs_a_reason(project, task, reviewers, curator):
    rate(reviewers[0], task)
    with pytest.raises(ValidationError) as caught:
        adjudicate(task, curator, reason="because")
    assert "reason" in caught.value.message_dict


def test_a_clinician_cannot_adjudicate_even_through_the_service(project, task, reviewers):
    rate(reviewers[0], task)
    with pytest.raises(PermissionDenied):
        adjudicate(task, reviewers[1])


def test_saving_over_a_gold_label_someone_else_changed_raises_a_conflict_and_keeps_theirs(
    project, task, reviewers, curator, admin_user
):
    rate(reviewers[0], task, clinical_validity=2)
    rate(reviewers[1], task, clinical_validity=5)
    adjudicate(task, admin_user, expected_version=0, values={**AGREED, "clinical_validity": 5})

    with pytest.raises(AdjudicationConflict) as caught:
        adjudicate(task, curator, expected_version=0, values={**AGREED, "clinical_validity": 2})

    assert caught.value.current.adjudicated_by == admin_user
    gold = GoldLabel.objects.get()
    assert (gold.values["clinical_validity"], gold.version) == (5, 1)


def test_a_re_adjudication_is_a_new_version_with_history(project, task, reviewers, curator):
    rate(reviewers[0], task, clinical_validity=2)
    rate(reviewers[1], task, clinical_validity=5)
    adjudicate(task, curator)
    gold = adjudicate(task, curator, expected_version=1, reason="guideline_gap")

    assert gold.version == 2
    assert [h.reason for h in gold.history.order_by("history_id")] == ["clinical_ambiguity", "guideline_gap"]


def test_a_settled_item_leaves_the_queue_and_returns_when_a_new_review_arrives(project, task, reviewers, curator):
    rate(reviewers[0], task, clinical_validity=2)
    rate(reviewers[1], task, clinical_validity=5)
    adjudicate(task, curator)
    assert disagreements_detect(project=project) == []
    assert disagreements_detect(project=project, include_settled=True)[0].settled

    rate(member(project), task, clinical_validity=4)

    [back] = disagreements_detect(project=project)
    assert back.gold is not None and not back.settled


def test_the_form_is_prefilled_with_the_majority_and_a_tie_is_left_open(project, task, reviewers):
    third = member(project)
    reviews = [
        rate(reviewers[0], task, clinical_validity=2, decision="reject"),
        rate(reviewers[1], task, clinical_validity=4, decision="accept"),
        rate(third, task, clinical_validity=4, clarity=5, decision="reject"),
    ]
    fields = project.seed_schema.fields
    prefill = majority_answers(fields=fields, answers=[r.answers for r in reviews])
    assert prefill["clinical_validity"] == 4
    assert prefill["decision"] == "reject"
    assert prefill["clarity"] == 4
    tie = majority_answers(fields=fields, answers=[r.answers for r in reviews[:2]])
    assert "clinical_validity" not in tie and "decision" not in tie


# --- dynamic overlap --------------------------------------------------------------------------------


def test_when_the_first_k_disagree_one_more_reviewer_with_the_matching_specialty_gets_the_item(project, reviewers):
    set_rule(project, DisagreementRule.SPREAD, dynamic_overlap=True)
    task = SeedTaskFactory(project=project, topic_raw="Nephrology")
    busy_nephrologist = member(project, specialty="Nephrology")
    AssignmentFactory(seed_task=SeedTaskFactory(project=project), reviewer=busy_nephrologist)
    idle_generalist = member(project, specialty="general practice")
    rate(reviewers[0], task, clinical_validity=1)

    rate(reviewers[1], task, clinical_validity=5)  # the k-th review triggers the extra one

    extra = Assignment.objects.get(seed_task=task)
    assert extra.reviewer == busy_nephrologist
    assert extra.reviewer != idle_generalist
    assert overlap_extend(project=project, seed_task=task) is None  # one extra reviewer, not one per call


def test_the_extra_reviewer_is_never_someone_already_on_the_item(project, task):
    set_rule(project, DisagreementRule.SPREAD, dynamic_overlap=True)
    first, second = member(project, specialty="cardiology"), member(project, specialty="cardiology")
    skipper = member(project, specialty="cardiology")
    AssignmentFactory(seed_task=task, reviewer=skipper, status=AssignmentStatus.SKIPPED)
    fresh = member(project, specialty="dermatology")
    rate(first, task, clinical_validity=1)
    rate(second, task, clinical_validity=5)

    extra = Assignment.objects.exclude(reviewer=skipper).get(seed_task=task)
    assert extra.reviewer == fresh


def test_among_equal_specialties_the_least_loaded_reviewer_is_chosen(project, task, reviewers):
    set_rule(project, DisagreementRule.SPREAD, dynamic_overlap=True)
    loaded = member(project, specialty="")
    AssignmentFactory(seed_task=SeedTaskFactory(project=project), reviewer=loaded)
    idle = member(project, specialty="")
    reviewers[0].specialty = reviewers[1].specialty = ""
    rate(reviewers[0], task, clinical_validity=1)
    rate(reviewers[1], task, clinical_validity=5)

    assert Assignment.objects.get(seed_task=task).reviewer == idle


def test_no_extra_reviewer_when_overlap_is_off_or_the_reviewers_agree(project, reviewers):
    spare = member(project)
    disputed, agreed = SeedTaskFactory(project=project), SeedTaskFactory(project=project)
    set_rule(project, DisagreementRule.SPREAD, dynamic_overlap=False)
    rate(reviewers[0], disputed, clinical_validity=1)
    rate(reviewers[1], disputed, clinical_validity=5)
    set_rule(project, DisagreementRule.SPREAD, dynamic_overlap=True)
    rate(reviewers[0], agreed)
    rate(reviewers[1], agreed)

    assert not Assignment.objects.filter(reviewer=spare).exists()


def test_no_extra_reviewer_when_nobody_is_left(project, task, reviewers):
    set_rule(project, DisagreementRule.SPREAD, dynamic_overlap=True)
    rate(reviewers[0], task, clinical_validity=1)
    rate(reviewers[1], task, clinical_validity=5)
    assert not Assignment.objects.exists()


# --- accepting into the dataset ---------------------------------------------------------------------


def test_accepting_one_task_is_audited_in_an_event_and_in_the_task_history(project, task, curator):
    event = seed_task_decide(task=task, actor=curator, action="accepted", rationale="Gold label agreed")

    task.refresh_from_db()
    assert task.status == TaskStatus.ACCEPTED
    assert (event.mode, event.actor, event.task_count) == (AcceptanceMode.SINGLE, curator, 1)
    assert list(event.tasks.all()) == [task]
    latest = task.history.order_by("-history_id").first()
    assert latest.history_user == curator
    assert f"decision #{event.pk}" in latest.history_change_reason
    assert "Gold label agreed" in latest.history_change_reason


def test_bulk_accept_by_filter_changes_exactly_the_previewed_tasks_and_records_them(project, curator, reviewers):
    easy = [SeedTaskFactory(project=project, difficulty=1, status=TaskStatus.IN_REVIEW) for _ in range(3)]
    SeedTaskFactory(project=project, difficulty=5, status=TaskStatus.IN_REVIEW)
    already = SeedTaskFactory(project=project, difficulty=1, status=TaskStatus.ACCEPTED)
    disputed = SeedTaskFactory(project=project, difficulty=1, status=TaskStatus.IN_REVIEW)
    rate(reviewers[0], disputed, clinical_validity=1)
    rate(reviewers[1], disputed, clinical_validity=5)
    params = {"difficulty": "1"}

    tasks = seed_tasks_matching(project=project, filter_params=params)
    preview = seed_tasks_decision_preview(project=project, action="accepted", tasks=tasks)
    assert (len(preview.task_ids), preview.matched, preview.already, preview.disputed) == (3, 5, 1, 1)

    event = seed_tasks_decide_by_filter(
        project=project,
        actor=curator,
        action="accepted",
        tasks=tasks,
        filter_params=params,
        expected_fingerprint=preview.fingerprint,
        rationale="Easy items all reviewed",
    )

    assert event.mode == AcceptanceMode.FILTER
    assert event.filter_params == {"difficulty": "1", "skip_disputed": True}
    assert sorted(t.pk for t in event.tasks.all()) == sorted(t.pk for t in easy)
    assert set(project.seed_tasks.filter(status=TaskStatus.ACCEPTED).values_list("pk", flat=True)) == {
        *(t.pk for t in easy),
        already.pk,
    }
    for t in easy:
        assert t.history.order_by("-history_id").first().history_user == curator


def test_bulk_accept_refuses_when_the_filter_now_selects_other_tasks(project, curator):
    SeedTaskFactory(project=project, difficulty=1)
    tasks = seed_tasks_matching(project=project, filter_params={"difficulty": "1"})
    preview = seed_tasks_decision_preview(project=project, action="accepted", tasks=tasks)
    SeedTaskFactory(project=project, difficulty=1)  # arrives between the preview and the confirmation

    with pytest.raises(ValidationError, match="different set of tasks"):
        seed_tasks_decide_by_filter(
            project=project,
            actor=curator,
            action="accepted",
            tasks=tasks,
            filter_params={"difficulty": "1"},
            expected_fingerprint=preview.fingerprint,
        )
    assert not AcceptanceEvent.objects.exists()
    assert not project.seed_tasks.filter(status=TaskStatus.ACCEPTED).exists()


def test_a_filter_over_the_limit_is_refused_without_reading_past_it_or_searching_disputes(
    project, curator, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(dataset_decision_selectors, "DECISION_LIMIT", 3)
    monkeypatch.setattr(dataset_decision_services, "DECISION_LIMIT", 3)
    monkeypatch.setattr(
        dataset_decision_selectors, "disputed_task_ids", lambda **kw: pytest.fail("searched for disputes")
    )
    SeedTaskFactory.create_batch(4, project=project, difficulty=1, status=TaskStatus.IN_REVIEW)
    SeedTaskFactory(project=project, difficulty=1, status=TaskStatus.ACCEPTED)
    tasks = seed_tasks_matching(project=project, filter_params={"difficulty": "1"})

    with django_assert_max_num_queries(3):  # how many match, the first four to change, how many would change
        preview = seed_tasks_decision_preview(project=project, action="accepted", tasks=tasks)

    assert preview.over_limit and (preview.task_ids, preview.matched, preview.already) == ([], 5, 1)
    with pytest.raises(ValidationError, match="At most 3 tasks at once; narrow the filter"):
        seed_tasks_decide_by_filter(
            project=project,
            actor=curator,
            action="accepted",
            tasks=tasks,
            filter_params={"difficulty": "1"},
            expected_fingerprint=preview.fingerprint,
        )
    assert not AcceptanceEvent.objects.exists()


def test_a_bad_filter_value_is_a_clear_error(project):
    with pytest.raises(ValidationError) as caught:
        seed_tasks_matching(project=project, filter_params={"difficulty": "9"})
    assert "difficulty" in caught.value.message_dict


def test_a_clinician_cannot_accept_tasks(project, task, clinician):
    with pytest.raises(PermissionDenied):
        seed_task_decide(task=task, actor=clinician, action="accepted")
    assert not AcceptanceEvent.objects.exists()


# --- pages and API ----------------------------------------------------------------------------------


def test_the_queue_page_lists_disputed_items_with_the_rule_that_fired(client, project, task, reviewers, curator):
    rate(reviewers[0], task, clinical_validity=1)
    rate(reviewers[1], task, clinical_validity=5)
    disagreements_refresh(project=project)
    client.force_login(curator)

    page = client.get(reverse("adjudication_queue", args=[project.slug]))

    body = page.content.decode()
    assert "Clinical validity: 1, 5 (spread 4)" in body
    assert reverse("adjudicate_task", args=[project.slug, task.pk]) in body


def test_the_queue_page_answers_htmx_with_the_queue_fragment_only(client, project, curator):
    client.force_login(curator)
    page = client.get(reverse("adjudication_queue", args=[project.slug]), headers={"HX-Request": "true"})
    body = page.content.decode()
    assert 'id="queue"' in body and "<html" not in body


def test_reviewer_names_are_hidden_until_revealed(client, project, task, reviewers, curator):
    rate(reviewers[0], task, clinical_validity=1)
    rate(reviewers[1], task, clinical_validity=5)
    client.force_login(curator)
    url = reverse("adjudicate_task", args=[project.slug, task.pk])

    hidden = client.get(url).content.decode()
    assert "Reviewer A" in hidden and "Reviewer B" in hidden
    assert "Dr. Alpha" not in hidden and "Dr. Beta" not in hidden

    revealed = client.get(url + "?reveal=1", headers={"HX-Request": "true"}).content.decode()
    assert "Dr. Alpha" in revealed and "Dr. Beta" in revealed
    assert "<html" not in revealed


def test_saving_the_gold_form_shows_the_soft_label(client, project, task, reviewers, curator):
    rate(reviewers[0], task, clinical_validity=1)
    rate(reviewers[1], task, clinical_validity=5)
    client.force_login(curator)
    url = reverse("adjudicate_task", args=[project.slug, task.pk])
    form = {
        "schema": project.seed_schema.pk,
        "version": "0",
        "gold_decision": "accept",
        "gold_clinical_validity": "3",
        "gold_clarity": "4",
        "gold_difficulty": "3",
        "reason": "reviewer_error",
        "note": "B misread the dose",
    }

    saved = client.post(url, form)

    assert saved.status_code == 302
    body = client.get(url).content.decode()
    assert 'data-testid="soft-label"' in body and "B misread the dose" in body
    assert GoldLabel.objects.get().values["clinical_validity"] == 3

    stale = client.post(url, {**form, "gold_clinical_validity": "2"})
    assert stale.status_code == 409
    assert GoldLabel.objects.get().values["clinical_validity"] == 3


def test_a_bad_gold_value_on_the_page_is_explained_and_saves_nothing(client, project, task, reviewers, curator):
    rate(reviewers[0], task)
    client.force_login(curator)
    url = reverse("adjudicate_task", args=[project.slug, task.pk])
    page = client.post(url, {"schema": project.seed_schema.pk, "version": "0", "gold_clarity": "lots"})
    assert page.status_code == 400
    body = page.content.decode()
    assert "must be a whole number" in body
    assert not GoldLabel.objects.exists()


def test_user_text_in_the_adjudication_view_is_inert(client, project, curator):
    payload = "<script>alert(1)</script>"
    task = SeedTaskFactory(project=project, instruction=f"Dose? {payload}")
    alice = member(project, name=f"Eve {payload}")
    bob = member(project)
    rate(alice, task, clinical_validity=1, comment=payload)
    rate(bob, task, clinical_validity=5)
    response = ModelResponseFactory(seed_task=task, text=f"Take {payload} daily")
    answers = {**RESPONSE_AGREED, "correctness": 2, "helpfulness": 2}
    review_submit(
        reviewer=alice,
        schema=project.response_schema,
        response=response,
        answers=answers,
        corrected_text=f"Take <img src=x onerror=alert(1)> {payload} twice daily",
    )
    review_submit(
        reviewer=bob, schema=project.response_schema, response=response, answers={**answers, "correctness": 5}
    )
    client.force_login(curator)

    pages = [
        client.get(reverse("adjudicate_task", args=[project.slug, task.pk]) + "?reveal=1"),
        client.get(reverse("adjudicate_response", args=[project.slug, response.pk]) + "?reveal=1"),
        client.get(reverse("adjudication_queue", args=[project.slug])),
    ]
    for page in pages:
        body = page.content.decode()
        assert payload not in body and "<img src=x" not in body
    assert "&lt;script&gt;" in pages[0].content.decode()
    assert "<ins>" in pages[1].content.decode()  # the correction shows as a diff


def test_the_api_lists_disagreements_and_sets_a_gold_label(client, project, task, reviewers, curator):
    rate(reviewers[0], task, clinical_validity=1)
    rate(reviewers[1], task, clinical_validity=5)
    disagreements_refresh(project=project)
    client.force_login(curator)

    listed = client.get(reverse("api_disagreement_list", args=[project.slug])).json()["results"]
    assert [(d["item_type"], d["item_id"], d["level"]) for d in listed] == [("seed_task", task.pk, "high")]
    assert listed[0]["fields"][0]["spread"] == 4

    body = {
        "item_type": "seed_task",
        "item_id": task.pk,
        "values": {**AGREED, "clinical_validity": 3},
        "reason": "guideline_gap",
        "expected_version": 0,
    }
    created = client.post(reverse("api_adjudicate", args=[project.slug]), body, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["soft_label"]["clinical_validity"]["counts"] == {"1": 1, "5": 1}

    again = client.post(reverse("api_adjudicate", args=[project.slug]), body, content_type="application/json")
    assert again.status_code == 409 and again.json()["current"]["version"] == 1

    bad = client.post(
        reverse("api_adjudicate", args=[project.slug]),
        {**body, "expected_version": 1, "values": {"clarity": 8}},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "clarity" in bad.json()


def test_clinicians_get_403_and_non_members_404_from_the_adjudication_api(client, project, task, clinician, outsider):
    client.force_login(clinician)
    assert client.get(reverse("api_disagreement_list", args=[project.slug])).status_code == 403
    body = {"item_type": "seed_task", "item_id": task.pk, "values": {}, "reason": "other", "expected_version": 0}
    assert (
        client.post(reverse("api_adjudicate", args=[project.slug]), body, content_type="application/json").status_code
        == 403
    )
    client.force_login(outsider)
    assert client.get(reverse("api_disagreement_list", args=[project.slug])).status_code == 404
    assert not GoldLabel.objects.exists()


def test_an_item_of_another_project_is_not_found(client, project, curator):
    other = SeedTaskFactory()
    client.force_login(curator)
    assert client.get(reverse("adjudicate_task", args=[project.slug, other.pk])).status_code == 404


def test_the_bulk_page_previews_a_count_and_confirms(client, project, curator):
    tasks = [SeedTaskFactory(project=project, difficulty=2, status=TaskStatus.IN_REVIEW) for _ in range(2)]
    client.force_login(curator)
    url = reverse("bulk_decide", args=[project.slug])

    preview = client.get(url, {"difficulty": "2", "action": "accepted", "skip_disputed": "on"})
    body = preview.content.decode()
    assert 'data-testid="preview-count">2<' in body
    fingerprint = preview.context["preview"].fingerprint

    done = client.post(
        url,
        {"difficulty": "2", "action": "accepted", "skip_disputed": "on", "fingerprint": fingerprint, "rationale": "ok"},
    )
    assert done.status_code == 302
    assert all(t.status == TaskStatus.ACCEPTED for t in type(tasks[0]).objects.filter(pk__in=[t.pk for t in tasks]))
    assert AcceptanceEvent.objects.get().task_count == 2


def test_the_bulk_page_asks_to_narrow_a_filter_over_the_limit_and_offers_no_confirmation(
    client, project, curator, monkeypatch
):
    monkeypatch.setattr(dataset_decision_selectors, "DECISION_LIMIT", 1)
    SeedTaskFactory.create_batch(2, project=project, difficulty=2, status=TaskStatus.IN_REVIEW)
    client.force_login(curator)

    body = client.get(
        reverse("bulk_decide", args=[project.slug]), {"difficulty": "2", "action": "accepted", "skip_disputed": "on"}
    ).content.decode()

    assert "More than 1 tasks would be accepted: one decision changes at most 1. Narrow the filter." in body
    assert 'data-testid="confirm"' not in body


def test_the_settings_page_changes_the_rule(client, project, curator):
    client.force_login(curator)
    url = reverse("adjudication_settings", args=[project.slug])
    assert client.post(url, {"rule": "any", "min_spread": "0"}).status_code == 400
    assert client.post(url, {"rule": "any", "min_spread": "3", "dynamic_overlap": "on"}).status_code == 302
    saved = AdjudicationSettings.objects.get(project=project)
    assert (saved.rule, saved.min_spread, saved.dynamic_overlap, saved.updated_by) == ("any", 3, True, curator)


# --- concurrency (row locks need PostgreSQL) --------------------------------------------------------


def _together(n, work):
    """Run work(i) in n threads released at once; returns (results, exceptions), each thread closing its connection."""
    barrier = threading.Barrier(n)
    results, errors = [None] * n, [None] * n

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # collected for the test's own assertions
            errors[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_two_curators_adjudicating_the_same_item_at_once_never_silently_overwrite():
    assert connection.vendor == "postgresql"
    project = ProjectFactory()
    task = SeedTaskFactory(project=project)
    a, b = member(project), member(project)
    rate(a, task, clinical_validity=1)
    rate(b, task, clinical_validity=5)
    curators = [CuratorFactory(), CuratorFactory()]

    results, errors = _together(
        2,
        lambda i: adjudicate(task, curators[i], expected_version=0, values={**AGREED, "clinical_validity": [1, 5][i]}),
    )

    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert [type(e) for e in errors if e is not None] == [AdjudicationConflict]
    gold = GoldLabel.objects.get()
    assert gold.version == 1 and gold.values["clinical_validity"] == winners[0].values["clinical_validity"]


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_overlap_checks_add_exactly_one_extra_reviewer():
    project = ProjectFactory()
    set_rule(project, DisagreementRule.SPREAD, dynamic_overlap=True)
    task = SeedTaskFactory(project=project)
    a, b = member(project), member(project)
    for _ in range(4):
        member(project)
    Review.objects.bulk_create(
        Review(
            project=project, schema=project.seed_schema, reviewer=r, seed_task=task, answers={**AGREED, "clarity": c}
        )
        for r, c in ((a, 1), (b, 5))
    )

    _together(6, lambda i: overlap_extend(project=project, seed_task=task))

    assert Assignment.objects.filter(seed_task=task).count() == 1


def test_turning_dynamic_overlap_on_sends_items_already_in_dispute_to_one_more_reviewer(
    client, project, reviewers, curator, django_capture_on_commit_callbacks
):
    disputed, agreed = SeedTaskFactory(project=project), SeedTaskFactory(project=project)
    rate(reviewers[0], disputed, clinical_validity=1)
    rate(reviewers[1], disputed, clinical_validity=5)
    rate(reviewers[0], agreed)
    rate(reviewers[1], agreed)
    spare = member(project)
    client.force_login(curator)
    url = reverse("adjudication_settings", args=[project.slug])

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(url, {"rule": "spread", "min_spread": "2", "dynamic_overlap": "on"}, follow=True)
    # The request only queues the sweep: finding the disputes reads every review of the project.
    assert not Assignment.objects.exists()
    assert "being sent to one more reviewer" in response.content.decode()
    for callback in queued:
        callback()  # the worker runs the queued jobs
    client.post(url, {"rule": "spread", "min_spread": "2", "dynamic_overlap": "on"})

    assert list(Assignment.objects.values_list("reviewer", "seed_task")) == [(spare.pk, disputed.pk)]


def test_the_settings_service_sends_items_in_dispute_to_one_more_reviewer_once_when_overlap_turns_on(
    project, reviewers, curator, django_capture_on_commit_callbacks
):
    disputed, agreed = SeedTaskFactory(project=project), SeedTaskFactory(project=project)
    rate(reviewers[0], disputed, clinical_validity=1)
    rate(reviewers[1], disputed, clinical_validity=5)
    rate(reviewers[0], agreed)
    rate(reviewers[1], agreed)
    spare = member(project)
    rules = {"rule": DisagreementRule.SPREAD, "min_spread": 2}

    with django_capture_on_commit_callbacks(execute=True):  # the worker's sweep, run eagerly
        off = adjudication_settings_update(project=project, actor=curator, dynamic_overlap=False, **rules)
        on = adjudication_settings_update(project=project, actor=curator, dynamic_overlap=True, **rules)
        still_on = adjudication_settings_update(project=project, actor=curator, dynamic_overlap=True, **rules)

    assert (off.overlap_turned_on, on.overlap_turned_on, still_on.overlap_turned_on) == (False, True, False)
    assert list(Assignment.objects.values_list("reviewer", "seed_task")) == [(spare.pk, disputed.pk)]


def test_a_clinician_cannot_change_how_disagreements_are_found(project, clinician):
    with pytest.raises(PermissionDenied):
        adjudication_settings_update(
            project=project, actor=clinician, rule=DisagreementRule.ANY, min_spread=2, dynamic_overlap=True
        )
    assert not AdjudicationSettings.objects.filter(project=project).exists()
