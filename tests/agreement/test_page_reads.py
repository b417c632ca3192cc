"""What the agreement page and API read of a stored report. The worker shapes the page's figures when it
computes the report and stores them with it: a visit reads those, never the report (1.7 MB for 300
reviewers), whose every reviewer only the long page (`?raters=all`) reads. The API answers the stored
report as its text, undecoded. Neither costs more queries with more reviewers."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from curation.api.renderers import StoredJSON
from curation.models import Computation
from curation.selectors.agreement import RATERS_SHOWN, agreement_page
from curation.services.agreement import project_agreement_refresh
from curation.services.reviews import review_submit
from tests.factories import ClinicianFactory, MembershipFactory, SeedTaskFactory
from tests.scale import queries

# The result column as a query that selects it names it, on SQLite and PostgreSQL alike.
RESULT_COLUMN = '"curation_computation"."result"'


def _reviewers_join(project, n: int, *, names=()) -> list:
    """n more reviewers, each reviewing three new tasks with the next two (in a ring), clarity varying."""
    people = [ClinicianFactory(name=name) for name in names] + [ClinicianFactory() for _ in range(n - len(names))]
    for person in people:
        MembershipFactory(project=project, user=person)
    for i in range(n):
        task = SeedTaskFactory(project=project)
        for j in range(3):
            answers = {"decision": "accept", "clinical_validity": 4, "clarity": 1 + (i * j + j) % 5, "difficulty": 3}
            review_submit(reviewer=people[(i + j) % n], schema=project.seed_schema, seed_task=task, answers=answers)
    return people


@pytest.fixture
def reviewers(project):
    return _reviewers_join(project, 3, names=("Ana Ruiz", "Ben Okafor", "Chen Wu"))


def _url(project) -> str:
    return reverse("project_agreement", args=[project.slug])


def _as_stored(value):
    return json.loads(json.dumps(value))


def _names(schema) -> list[str]:
    return [rater["name"] for rater in schema["raters_table"]]


def test_the_worker_stores_the_page_shaped_from_the_report_it_computed(project, reviewers):
    project_agreement_refresh(project_id=project.pk)
    computation = Computation.objects.get()

    assert computation.page == _as_stored(agreement_page(computation.result))
    (schema,) = computation.page["schemas"]
    assert sorted(_names(schema)) == ["Ana Ruiz", "Ben Okafor", "Chen Wu"] and schema["n_raters"] == 3
    assert all("raters" not in field for field in schema["fields"])  # the raters' table holds them


def test_the_page_shows_the_stored_figures_without_reading_the_report(client, project, curator, reviewers):
    project_agreement_refresh(project_id=project.pk)
    computation = Computation.objects.get()
    shaped = _as_stored(agreement_page(computation.result))["schemas"]
    # The report loses its per-rater rows: a page built from it would list no reviewer.
    report = computation.result
    for field in report["schemas"][0]["fields"]:
        field["raters"] = []
    Computation.objects.update(result=report)
    client.force_login(curator)

    with CaptureQueriesContext(connection) as captured:
        response = client.get(_url(project))

    assert response.context["schemas"] == shaped
    html = response.content.decode()
    assert "Ana Ruiz" in html and "Ben Okafor" in html and "Chen Wu" in html
    assert not [query["sql"] for query in captured if RESULT_COLUMN in query["sql"]]


@pytest.mark.parametrize("stored", [None, {"version": 0, "schemas": []}], ids=["no page", "an older shape"])
def test_a_report_stored_without_a_current_page_is_shown_from_the_report(client, project, curator, reviewers, stored):
    project_agreement_refresh(project_id=project.pk)
    client.force_login(curator)
    with_page = client.get(_url(project)).context["schemas"]
    cost = queries(client, "get", _url(project))
    Computation.objects.update(page=stored)

    response = client.get(_url(project))

    assert response.context["schemas"] == with_page
    assert "Ana Ruiz" in response.content.decode() and "Coefficients by field" in response.content.decode()
    assert queries(client, "get", _url(project)) == cost + 1  # the report, read on its own
    assert Computation.objects.get().page == stored  # a visit shows; it writes nothing


def test_the_page_lists_the_reviewers_shown_and_every_one_when_asked(client, project, curator):
    people = _reviewers_join(project, RATERS_SHOWN + 5)
    project_agreement_refresh(project_id=project.pk)
    client.force_login(curator)

    shown = client.get(_url(project))
    everyone = client.get(_url(project), {"raters": "all"})

    (default,) = shown.context["schemas"]
    (every,) = everyone.context["schemas"]
    assert len(default["raters_table"]) == RATERS_SHOWN and default["n_raters"] == RATERS_SHOWN + 5
    assert f"of {RATERS_SHOWN + 5}" in shown.content.decode() and "?raters=all" in shown.content.decode()
    assert sorted(_names(every)) == sorted(person.name for person in people)
    assert _names(every)[:RATERS_SHOWN] == _names(default)  # the same order, cut
    assert every["fields"] == default["fields"] and every["slice_tables"] == default["slice_tables"]
    assert 'data-testid="raters-shown"' not in everyone.content.decode()


def test_the_page_and_api_cost_the_same_queries_with_few_and_many_reviewers(
    client, project, curator, reviewers, django_assert_num_queries
):
    client.force_login(curator)
    page, api = _url(project), reverse("api_agreement", args=[project.slug])
    project_agreement_refresh(project_id=project.pk)
    few = [queries(client, "get", page), queries(client, "get", page + "?raters=all"), queries(client, "get", api)]

    _reviewers_join(project, RATERS_SHOWN + 5)
    project_agreement_refresh(project_id=project.pk)

    assert Computation.objects.get().page["schemas"][0]["n_raters"] == 3 + RATERS_SHOWN + 5
    for url, count in zip((page, page + "?raters=all", api), few, strict=True):
        with django_assert_num_queries(count):
            assert client.get(url).status_code == 200


# The API


def test_the_api_answers_the_stored_report_as_text_without_decoding_it(client, project, curator, monkeypatch):
    # Names outside ASCII, and a line separator that JavaScript reads as the end of a line.
    _reviewers_join(project, 3, names=("Zoë Ndlovu", "Łukasz\u2028Nowak", "陈伟"))
    report = project_agreement_refresh(project_id=project.pk)
    client.force_login(curator)

    def decoded(*args):
        raise AssertionError("the stored report was decoded")

    monkeypatch.setattr(Computation._meta.get_field("result"), "from_db_value", decoded)
    response = client.get(reverse("api_agreement", args=[project.slug]))

    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert "\u2028" not in response.content.decode()
    assert json.loads(response.content) == {**_as_stored(report), "stale": False, "computing": False}


def test_the_api_still_pretty_prints_and_browses_the_report_when_asked(client, project, curator, reviewers):
    report = project_agreement_refresh(project_id=project.pk)
    client.force_login(curator)
    url = reverse("api_agreement", args=[project.slug])

    pretty = client.get(url, headers={"Accept": "application/json; indent=2"})
    browsed = client.get(url, headers={"Accept": "text/html"})

    assert pretty.content.decode().startswith('{\n  "')
    assert json.loads(pretty.content) == {**_as_stored(report), "stale": False, "computing": False}
    assert browsed.status_code == 200 and browsed["Content-Type"].startswith("text/html")
    assert "Ana Ruiz" in browsed.content.decode()


@pytest.mark.parametrize(
    ("stored", "answered"),
    [('{"a": 1}', {"a": 1, "stale": True}), ("{}", {"stale": True}), (' { "a" : [ ] } \n', {"a": [], "stale": True})],
)
def test_a_stored_object_is_answered_with_the_keys_the_request_adds(stored, answered):
    assert json.loads(StoredJSON(stored, stale=True).encoded()) == answered
