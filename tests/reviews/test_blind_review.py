"""Blind review: before submitting, reviewer A never sees reviewer B's answers, drafts, edits in progress or counts.

A canary string is planted in everything B writes (answers, comment, corrected text, drafts, flag
notes). Then everything A can reach is fetched: every link and htmx URL found by crawling from the
dashboard, and every route in the URL resolver filled with A's ids (and B's, which must not open),
as a page, as an htmx fragment and, for the API, as JSON. The canary must appear nowhere.
"""

import re
import uuid
from urllib.parse import urljoin, urlsplit

import pytest
from django.urls import NoReverseMatch, reverse

from curation.models import ItemFlag, ReviewVisibility
from curation.services.flags import item_flag_raise
from curation.services.reviews import review_draft_save, review_submit_for_assignment
from curation.services.round_judging import judgment_submit
from curation.services.round_schedules import round_freeze
from curation.services.rounds import round_create
from curation.services.seed_tasks import seed_task_edit
from tests.factories import (
    AssignmentFactory,
    ClinicianFactory,
    CuratorFactory,
    MembershipFactory,
    ModelResponseFactory,
    PromptFactory,
    SeedTaskFactory,
)
from tests.reviews.test_services import RESPONSE_ANSWERS, SEED_ANSWERS
from tests.test_access_matrix import _project_routes

LINK = re.compile(r'(?:href|hx-get|action)="([^"]+)"')
PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
NEVER_FOLLOW = ("/accounts/logout", "/static/", "/admin/", "/api/schema", "/api/docs")


@pytest.fixture
def blind(project, clinician):
    canary = f"CANARY-{uuid.uuid4().hex}"
    a, b = clinician, ClinicianFactory()
    MembershipFactory(project=project, user=b)
    submitted_task = SeedTaskFactory(project=project)
    drafted_task = SeedTaskFactory(project=project)
    submitted_response = ModelResponseFactory(seed_task=SeedTaskFactory(project=project))
    drafted_response = ModelResponseFactory(seed_task=submitted_task)
    mine = {}
    for name, item in (
        ("submitted_task", {"seed_task": submitted_task}),
        ("drafted_task", {"seed_task": drafted_task}),
        ("submitted_response", {"seed_task": None, "response": submitted_response}),
        ("drafted_response", {"seed_task": None, "response": drafted_response}),
    ):
        mine[name] = AssignmentFactory(reviewer=a, **item)
        theirs = AssignmentFactory(reviewer=b, **item)
        mine[f"theirs_{name}"] = theirs
        if name.startswith("submitted"):
            answers = SEED_ANSWERS if name.endswith("task") else RESPONSE_ANSWERS
            review_submit_for_assignment(
                assignment_id=theirs.pk,
                reviewer=b,
                answers={**answers, "comment": f"{canary} comment"},
                corrected_text=f"{canary} corrected" if name.endswith("response") else "",
            )
        else:
            review_draft_save(
                assignment=theirs,
                answers={"comment": f"{canary} draft", "clarity": 1},
                corrected_text=f"{canary} draft correction",
            )
    item_flag_raise(reviewer=b, seed_task=submitted_task, kind="unsafe", note=f"{canary} flag note")
    item_flag_raise(reviewer=b, response=submitted_response, kind="needs_specialist", note=f"{canary} flag note")
    # B's edits of tasks A is still reviewing: who edited and why is B's part (the task history).
    for task in (submitted_task, drafted_task):
        seed_task_edit(task_id=task.pk, editor=b, expected_version=1, changes={"difficulty": 1}, rationale=canary)
    _round_b_has_judged(project, a, b)
    return canary, a, b, mine


def _round_b_has_judged(project, a, b):
    """A pairwise round A and B judge, open, where B has judged one item and A none."""
    for _ in range(2):
        prompt = PromptFactory(project=project)
        for model in ("model-one", "model-two"):
            ModelResponseFactory(prompt=prompt, seed_task=None, model_name=model)
    curator = CuratorFactory()
    evaluation_round = round_create(
        project=project,
        created_by=curator,
        name="Blind round",
        mode="pairwise",
        models=["model-one", "model-two"],
        reviewers=[a, b],
        judgments_per_item=2,
    )
    round_freeze(evaluation_round=evaluation_round)
    slot = b.round_slots.filter(round=evaluation_round).order_by("position", "pk").first()
    answers = {f["key"]: "a" for f in evaluation_round.schema.fields if f["kind"] == "pairwise_choice"}
    judgment_submit(slot=slot, reviewer=b, answers=answers)


def _urls_from_resolver(project, mine, flag):
    values = {
        "slug": [project.slug],
        "task_id": [mine["submitted_task"].seed_task_id, mine["drafted_task"].seed_task_id],
        "assignment_id": [a.pk for a in mine.values()],
        "flag_id": [flag.pk],
    }
    urls = []
    for name, pattern in _project_routes():
        params = PARAM.findall(pattern)
        if any(p not in values for p in params):
            combos = [{p: values.get(p, [1])[0] for p in params}]
        else:
            combos = [{}]
            for param in params:
                combos = [{**c, param: v} for c in combos for v in values[param]]
        for kwargs in combos:
            try:
                urls.append(reverse(name, kwargs=kwargs or None))
            except NoReverseMatch:
                continue
    return urls


def _crawl(client, start_urls, limit=600):
    """GET every reachable same-site URL as a page and as an htmx fragment; returns {url: body}."""
    seen, bodies, queue = set(), {}, list(start_urls)
    while queue and len(seen) < limit:
        url = queue.pop(0)
        path = urlsplit(url).path
        if url in seen or path.startswith(NEVER_FOLLOW):
            continue
        seen.add(url)
        for headers in ({}, {"HX-Request": "true"}, {"Accept": "application/json"}):
            response = client.get(url, headers=headers)
            body = response.content.decode("utf-8", errors="replace")
            bodies[f"{url} {headers}"] = body
            if response.status_code == 200 and "html" in response.get("Content-Type", ""):
                for link in LINK.findall(body):
                    link = link.replace("&amp;", "&")
                    target = urljoin(url, link)
                    parts = urlsplit(target)
                    if parts.netloc in ("", "testserver") and not parts.fragment:
                        queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return bodies


def _leaks(bodies, canary):
    return sorted(key for key, body in bodies.items() if canary in body)


@pytest.mark.parametrize("visibility", [ReviewVisibility.AFTER_ADJUDICATION, ReviewVisibility.AFTER_SUBMIT])
def test_reviewer_a_never_sees_reviewer_bs_work_anywhere_before_submitting(client, project, blind, visibility):
    canary, a, _, mine = blind
    project.review_visibility = visibility
    project.save(update_fields=["review_visibility"])
    client.force_login(a)
    flag = ItemFlag.objects.filter(note__contains=canary).first()
    starts = [reverse("dashboard"), *_urls_from_resolver(project, mine, flag)]
    bodies = _crawl(client, starts)
    # Fragments A's own actions answer with, too.
    for name in ("drafted_task", "submitted_response"):
        draft_url = reverse("review_draft", args=[project.slug, mine[name].pk])
        flag_url = reverse("review_flag", args=[project.slug, mine[name].pk])
        for url, data in ((draft_url, {"a-clarity": "2"}), (flag_url, {"kind": "unsafe", "note": "mine"})):
            bodies[f"POST {url}"] = client.post(url, data, headers={"HX-Request": "true"}).content.decode()
    bodies["POST api next"] = client.post(reverse("api_review_next", args=[project.slug])).content.decode()

    assert len(bodies) > 60, "the crawl reached the workspace"
    assert any(f"/review/{mine['submitted_task'].pk}/" in key for key in bodies)
    assert any(f"/tasks/{mine['drafted_task'].seed_task_id}/ " in key for key in bodies), "the task history"
    assert _leaks(bodies, canary) == []
    # How many have judged a round is B's part too: the rounds list shows A only their own progress.
    rounds = client.get(reverse("round_list", args=[project.slug])).content.decode()
    assert "Blind round" in rounds and "Judgments" not in rounds


def test_after_submitting_a_sees_others_only_when_the_project_says_so(client, project, blind):
    canary, a, _, mine = blind
    client.force_login(a)
    review_submit_for_assignment(assignment_id=mine["submitted_task"].pk, reviewer=a, answers=SEED_ANSWERS)
    url = reverse("review_item", args=[project.slug, mine["submitted_task"].pk])

    assert canary not in client.get(url).content.decode(), "default: nothing until adjudication"
    project.review_visibility = ReviewVisibility.AFTER_SUBMIT
    project.save(update_fields=["review_visibility"])
    body = client.get(url).content.decode()
    assert f"{canary} comment" in body, "the crawl would have found it had it been shown"
    assert "flag note" not in body, "flags stay with the curators"
    drafted = client.get(reverse("review_item", args=[project.slug, mine["drafted_task"].pk])).content.decode()
    assert canary not in drafted, "still blind on the items A has not submitted"
