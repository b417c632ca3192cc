"""No request body makes the API answer 5xx: deep, huge, malformed or mislabelled bodies are a 4xx.

A JSON body is refused unparsed when it is larger than DATA_UPLOAD_MAX_MEMORY_SIZE or nested deeper
than CONCORD_IMPORT_MAX_DEPTH (64 levels), with a 400 saying which. The write endpoints are found
from the URL resolver, so a new one is fuzzed without being listed here.
"""

import uuid

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from curation.models import ImportJob, Project
from curation.services.releases import release_build, release_create
from curation.services.round_schedules import round_freeze
from curation.services.rounds import round_create
from tests.factories import AssignmentFactory, ModelResponseFactory, PromptFactory, SeedTaskFactory
from tests.reviews.test_services import SEED_ANSWERS

WRITE_METHODS = ("post", "put", "patch", "delete")
DEEP = 2_000


def deep_array(levels: int = DEEP) -> bytes:
    return b"[" * levels + b"]" * levels


def deep_object(levels: int = DEEP) -> bytes:
    return b'{"a": ' * levels + b"1" + b"}" * levels


def _api_write_routes() -> list[tuple[str, str, tuple[str, ...], list[str]]]:
    """(name, pattern, write methods, URL parameters) of every route under /api/v1/ that accepts a write."""

    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                view_class = getattr(entry.callback, "view_class", None)
                methods = tuple(m for m in WRITE_METHODS if view_class is not None and hasattr(view_class, m))
                if (prefix + str(entry.pattern)).startswith("api/v1/") and methods:
                    yield entry.name, prefix + str(entry.pattern), methods, list(entry.pattern.converters)

    return list(walk(get_resolver().url_patterns))


ROUTES = _api_write_routes()

# name -> (content type, body)
BODIES = {
    "an array 2,000 levels deep": ("application/json", deep_array()),
    "an object 2,000 levels deep": ("application/json", deep_object()),
    "a deep value inside a plausible payload": (
        "application/json",
        b'{"assignment": 1, "answers": ' + deep_array() + b', "winner": ' + deep_object() + b"}",
    ),
    "brackets only opening": ("application/json", b"[" * 100_000),
    "5 MB of JSON": ("application/json", b'{"name": "' + b"x" * 5_000_000 + b'"}'),
    "5 MB of form fields": ("application/x-www-form-urlencoded", b"name=" + b"x" * 5_000_000),
    "too many form fields": ("application/x-www-form-urlencoded", "&".join(f"f{i}=1" for i in range(5000)).encode()),
    "not JSON": ("application/json", b"this is not json"),
    "truncated JSON": ("application/json", b'{"assignment": 1, "answers": {'),
    "NaN": ("application/json", b'{"assignment": NaN}'),
    "invalid UTF-8": ("application/json", b'{"name": "caf\xe9"}'),
    "a bare string": ("application/json", b'"text"'),
    "a bare number": ("application/json", b"12"),
    "null": ("application/json", b"null"),
    "a list": ("application/json", b"[1, 2, 3]"),
    "an empty body": ("application/json", b""),
    "wrong types in fields": ("application/json", b'{"assignment": [], "answers": "yes", "format": {}, "winner": 7}'),
    "plain text": ("text/plain", b"hello"),
    "XML": ("application/xml", b"<review/>"),
    "multipart without a boundary": ("multipart/form-data", b"--x\r\n"),
    "a garbled multipart body": ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: nonsense\r\n\r\n"),
    "a compressed charset": ("application/json; charset=bz2_codec", b"BZh91AY&SY"),
    "an unknown charset": ("application/json; charset=no-such-charset", b'{"a": 1}'),
    "JSON labelled as a form": ("application/x-www-form-urlencoded", b'{"assignment": 1}'),
}


@pytest.fixture
def api_world(project, clinician, admin_user, settings, tmp_path):
    """A member clinician with an assignment and a round to judge, an admin, a built release, and URL values."""
    settings.MEDIA_ROOT = tmp_path / "media"
    task = SeedTaskFactory(project=project)
    AssignmentFactory(seed_task=task, reviewer=clinician)
    release = release_build(
        release_id=release_create(
            project=project, created_by=admin_user, format="alpaca", filters={"statuses": [task.status]}, enqueue=False
        ).pk
    )
    prompt = PromptFactory(project=project, input="")
    for model in ("model-one", "model-two"):
        ModelResponseFactory(prompt=prompt, seed_task=None, model_name=model)
    evaluation_round = round_freeze(
        evaluation_round=round_create(
            project=project,
            created_by=admin_user,
            name="Fuzz round",
            mode="pairwise",
            models=["model-one", "model-two"],
            reviewers=[clinician],
            judgments_per_item=1,
        )
    )
    values = {
        "slug": project.slug,
        "task_id": task.pk,
        "release_id": release.pk,
        "round_id": evaluation_round.pk,
        "job_id": 1,
        "response_id": _gradable_response(prompt, clinician, admin_user).pk,
    }
    return {"clinician": clinician, "admin": admin_user}, values


def _gradable_response(prompt, author, reviewer):
    """A response to the prompt, whose rubric is accepted, so the grading endpoint reads its body."""
    from curation.services.rubrics import CriterionInput, rubric_accept, rubric_create, rubric_submit

    rubric = rubric_create(
        prompt=prompt, author=author, criteria=[CriterionInput(text="Is right", points=5, axis="accuracy")]
    )
    rubric_submit(rubric_id=rubric.pk, author=author)
    rubric_accept(rubric_id=rubric.pk, reviewer=reviewer)
    return prompt.responses.first()


def _url(name: str, parameters: list[str], values: dict) -> str:
    missing = [p for p in parameters if p not in values]
    assert not missing, f"give the fuzz a value for {missing} (route {name})"
    return reverse(name, kwargs={p: values[p] for p in parameters})


def test_the_fuzz_covers_the_write_endpoints_named_in_the_api():
    names = {name for name, *_ in ROUTES}
    assert {"api_review_submit", "api_round_judgment", "api_adjudicate", "api_release_list"} <= names


@pytest.mark.parametrize("persona", ["clinician", "admin"])
@pytest.mark.parametrize("route", ROUTES, ids=[name for name, *_ in ROUTES])
def test_no_body_makes_a_write_endpoint_fail_with_a_5xx(api_world, route, persona):
    users, values = api_world
    name, _, methods, parameters = route
    client = Client(raise_request_exception=False)
    client.force_login(users[persona])
    url = _url(name, parameters, values)
    failures = []
    for method in methods:
        for body_name, (content_type, body) in BODIES.items():
            response = client.generic(method.upper(), url, body, content_type)  # the bytes as they are
            if response.status_code >= 500:
                failures.append(f"{method.upper()} {body_name}: {response.status_code}")
    assert not failures, failures


# The four endpoints that answered 500 to a deep body, with the user who gets as far as reading it.
READERS = {
    "api_review_submit": "clinician",
    "api_round_judgment": "clinician",
    "api_adjudicate": "admin",
    "api_release_list": "admin",
}


@pytest.mark.parametrize("name", sorted(READERS))
@pytest.mark.parametrize("body", [deep_array(), deep_object()], ids=["array", "object"])
def test_a_deep_body_is_a_400_naming_the_depth_limit(api_world, client, name, body):
    users, values = api_world
    client.force_login(users[READERS[name]])
    route = next(r for r in ROUTES if r[0] == name)

    response = client.post(_url(name, route[3], values), data=body, content_type="application/json")

    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "nested more than 64 levels deep at character " in detail
    assert "CONCORD_IMPORT_MAX_DEPTH" in detail


def test_the_depth_limit_is_the_setting_and_counts_the_body_as_level_one(api_world, client, settings):
    users, values = api_world
    settings.CONCORD_IMPORT_MAX_DEPTH = 3
    client.force_login(users["clinician"])
    url = reverse("api_review_submit", args=[values["slug"]])

    at_limit = client.post(url, data=b'{"answers": {"a": [1]}}', content_type="application/json")
    over = client.post(url, data=b'{"answers": {"a": [[1]]}}', content_type="application/json")

    assert at_limit.status_code == 400 and "assignment" in at_limit.json()  # parsed, then refused by the serializer
    assert over.status_code == 400
    assert over.json() == {
        "detail": "JSON parse error - nested more than 3 levels deep at character 20 "
        "(setting CONCORD_IMPORT_MAX_DEPTH)."
    }


def test_brackets_inside_strings_do_not_count_as_depth(api_world, client):
    users, values = api_world
    client.force_login(users["clinician"])
    url = reverse("api_review_submit", args=[values["slug"]])

    response = client.post(url, data={"answers": "[" * 500, "assignment": 0}, content_type="application/json")

    assert "detail" not in response.json(), response.json()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"format": "' + b"x" * 3_000_000 + b'"}'),
        ("application/x-www-form-urlencoded", b"format=" + b"x" * 3_000_000),
    ],
    ids=["json", "form"],
)
def test_a_body_over_the_upload_limit_is_a_400_naming_the_setting(api_world, client, content_type, body):
    users, values = api_world
    client.force_login(users["admin"])

    # Release definitions are JSON only (a form cannot carry their filters); confirming an import reads forms.
    job = ImportJob.objects.create(project=Project.objects.get(slug=values["slug"]), file_name="a.json")
    url = (
        reverse("api_release_list", args=[values["slug"]])
        if content_type == "application/json"
        else reverse("api_import_confirm", args=[values["slug"], job.pk])
    )
    response = client.post(url, data=body, content_type=content_type)

    assert response.status_code == 400
    assert response.json() == {
        "detail": f"The request body is {len(body):,} bytes; the limit is 2,621,440 bytes "
        "(setting DATA_UPLOAD_MAX_MEMORY_SIZE)."
    }


def test_the_body_limit_is_the_setting(api_world, client, settings):
    users, values = api_world
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    client.force_login(users["clinician"])
    payload = {"assignment": 0, "answers": SEED_ANSWERS, "submission_key": str(uuid.uuid4())}

    response = client.post(
        reverse("api_review_submit", args=[values["slug"]]), data=payload, content_type="application/json"
    )

    assert response.status_code == 400
    assert "the limit is 100 bytes (setting DATA_UPLOAD_MAX_MEMORY_SIZE)" in response.json()["detail"]


def test_an_ordinary_json_body_still_reaches_the_endpoint(api_world, client):
    users, values = api_world
    client.force_login(users["admin"])

    response = client.post(
        reverse("api_release_list", args=[values["slug"]]), data={"format": "yaml"}, content_type="application/json"
    )

    assert response.status_code == 400
    assert "format" in response.json()


def test_a_page_refuses_a_form_over_djangos_limit_with_a_400(api_world, client, settings):
    users, values = api_world
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.force_login(users["admin"])

    response = client.post(
        reverse("vocabulary_map", args=[values["slug"]]),
        data=b"term=" + b"x" * 5000,
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 400
