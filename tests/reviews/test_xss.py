"""User text stays text: a corpus of script-injection payloads put in every place the review workspace shows
user-supplied text (tasks, prompts, responses, comments, drafts, corrections, flag notes, names, form labels)."""

import uuid
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from curation.services.flags import item_flag_raise
from curation.services.projects import rating_schema_create
from curation.services.reviews import review_draft_save
from curation.services.seed_tasks import seed_task_edit
from tests.factories import (
    AssignmentFactory,
    ClinicianFactory,
    MembershipFactory,
    ModelResponseFactory,
    PromptFactory,
    SeedTaskFactory,
)

PAYLOADS = [
    '<script>alert("x1")</script>',
    '<img src=x onerror=alert("x2")>',
    '"><svg onload=alert("x3")>',
    "'><iframe src=javascript:alert(4)></iframe>",
    '[click me](javascript:alert("x5"))',
    '<a href="javascript:alert(6)">link</a>',
    "</textarea><script>alert(7)</script>",
    "<style>body{display:none}</style>",
    "<b onmouseover=alert(8)>bold</b>",
    "![pic](javascript:alert(9))",
    "<details open ontoggle=alert(10)>",
    "{{ request.user.password }} {% now 'Y' %}",
    "javascript:alert(11)",
]
CORPUS = "\n\n".join(PAYLOADS)
HX = ("hx-get", "hx-post", "hx-put", "hx-delete", "hx-patch", "hx-on", "hx-vals", "hx-headers")


class _Inspector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.problems = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        page_own = tag == "details" and attrs.get("id") == "reference-output"  # the response page's panel
        if tag in ("iframe", "object", "embed", "svg", "img", "style", "details", "b") and not page_own:
            self.problems.append(f"<{tag}> element")
        if tag == "script" and not (attrs.get("src") or "").startswith("/static/"):
            self.problems.append("inline <script>")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.problems.append(f"{name}= on <{tag}>")
            if name in ("href", "src", "action", *HX) and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"{name}={value!r} on <{tag}>")
        if "alert(" in " ".join(f"{k}={v}" for k, v in attrs.items() if k not in ("value", "placeholder")):
            self.problems.append(f"payload inside an attribute of <{tag}>: {attrs}")


def inert(html: str) -> list[str]:
    inspector = _Inspector()
    inspector.feed(html)
    return inspector.problems


@pytest.fixture
def hostile(project, curator):
    project.guidelines = CORPUS
    project.save(update_fields=["guidelines"])
    definition = {
        "fields": [
            {"key": "verdict", "label": CORPUS, "kind": "single_choice", "required": True,
             "options": [{"value": "ok", "label": PAYLOADS[1]}, {"value": "bad", "label": PAYLOADS[0]}]},
            {"key": "scale", "label": PAYLOADS[2], "kind": "ordinal_scale", "min": 1, "max": 3,
             "labels": {"1": PAYLOADS[3]}},
            {"key": "rubric", "label": "R", "kind": "rubric", "criteria": [{"key": "c", "label": PAYLOADS[6]}]},
            {"key": "comment", "label": "Comment", "kind": "free_text"},
        ]
    }  # fmt: skip
    project.seed_schema = rating_schema_create(
        project=project, name="Hostile", target="seed_task", definition=definition
    )
    project.save(update_fields=["seed_schema"])
    reviewer = ClinicianFactory(name=PAYLOADS[1])
    MembershipFactory(project=project, user=reviewer)
    task = SeedTaskFactory(project=project, instruction=CORPUS, input=CORPUS, reference_output=CORPUS,
                           topic_raw=PAYLOADS[0][:200], view_raw=PAYLOADS[2], task_type_raw=PAYLOADS[1])  # fmt: skip
    task_assignment = AssignmentFactory(seed_task=task, reviewer=reviewer)
    review_draft_save(assignment=task_assignment, answers={"comment": CORPUS})
    prompt = PromptFactory(project=project, instruction=CORPUS, input=CORPUS)
    response = ModelResponseFactory(seed_task=None, prompt=prompt, text=CORPUS, model_name=PAYLOADS[0])
    response_assignment = AssignmentFactory(seed_task=None, response=response, reviewer=reviewer)
    review_draft_save(assignment=response_assignment, answers={"comment": CORPUS}, corrected_text=CORPUS)
    item_flag_raise(reviewer=reviewer, seed_task=task, kind="unsafe", note=CORPUS)
    item_flag_raise(reviewer=reviewer, response=response, kind="phi", note=CORPUS)
    return reviewer, task_assignment, response_assignment


def test_every_review_page_and_fragment_keeps_the_payloads_inert(client, project, curator, hostile):
    reviewer, task_assignment, response_assignment = hostile
    slug = project.slug
    client.force_login(reviewer)
    pages = {}
    for assignment in (task_assignment, response_assignment):
        url = reverse("review_item", args=[slug, assignment.pk])
        pages[url] = client.get(url)
        pages[f"{url} draft"] = client.post(
            reverse("review_draft", args=[slug, assignment.pk]),
            {"a-comment": CORPUS, "corrected_text": CORPUS},
            headers={"HX-Request": "true"},
        )
        pages[f"{url} flag"] = client.post(
            reverse("review_flag", args=[slug, assignment.pk]), {"kind": "unsafe", "note": CORPUS},
            headers={"HX-Request": "true"},
        )  # fmt: skip
        pages[f"{url} invalid submit"] = client.post(url, {"a-comment": CORPUS, "submission_key": uuid.uuid4()})
    pages["queue"] = client.get(reverse("review_queue", args=[slug]))
    edit_url = reverse("review_task_edit", args=[slug, task_assignment.pk])
    pages["edit form"] = client.get(edit_url, headers={"HX-Request": "true"})
    task = task_assignment.seed_task
    seed_task_edit(
        task_id=task.pk, editor=reviewer, expected_version=1, changes={"input": CORPUS + "!"}, rationale=PAYLOADS[0]
    )
    stale = {"instruction": CORPUS, "input": CORPUS, "reference_output": CORPUS, "topic_raw": "t", "view_raw": "v",
             "task_type_raw": "x", "difficulty": "", "version": 1, "rationale": PAYLOADS[1]}  # fmt: skip
    pages["conflict fragment"] = client.post(edit_url, stale, headers={"HX-Request": "true"})
    pages["conflict page"] = client.post(edit_url, stale)
    client.force_login(curator)
    pages["attention"] = client.get(reverse("attention_list", args=[slug]))
    pages["assign"] = client.get(reverse("assign", args=[slug]))

    for name, response in pages.items():
        body = response.content.decode()
        if not name.endswith(" draft"):  # the draft fragment echoes no text, only "saved"
            assert "&lt;script&gt;" in body or "&lt;img" in body, f"{name} shows the text, escaped"
        assert inert(body) == [], name
