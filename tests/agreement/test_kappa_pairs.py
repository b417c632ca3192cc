"""The agreement page's Cohen's kappa pairs, drawn only when a curator opens them. The page keeps each field's
line (how many pairs) with a control that fetches its table once, by htmx, as the details open, or, without
JavaScript, a link to the page with that table drawn and open. The fragment goes through the page's gate and
costs the page's queries, however many reviewers there are."""

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from curation.selectors.agreement import RATERS_SHOWN
from curation.services.agreement import project_agreement_refresh
from tests.agreement.test_page_reads import _reviewers_join
from tests.scale import queries

HTMX = {"HX-Request": "true"}


@pytest.fixture
def reviewers(project):
    return _reviewers_join(project, 3, names=("Ana Ruiz", "Ben Okafor", "Chen Wu"))


def _url(project) -> str:
    return reverse("project_agreement", args=[project.slug])


def _ref(report, key: str) -> str:
    (schema,) = report["schemas"]
    return f"{schema['schema_id']}:{key}"


def _field(report, key: str) -> dict:
    (schema,) = report["schemas"]
    return next(field for field in schema["fields"] if field["key"] == key)


class _Cells(HTMLParser):
    """The text of each body row's cells of the tables in a piece of HTML."""

    def __init__(self):
        super().__init__()
        self.rows, self._in_body, self._cell = [], False, None

    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag in ("td", "th") and self._in_body:
            self._cell = ""
        elif tag == "br" and self._cell is not None:
            self._cell += " "

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False
        elif tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join(self._cell.split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _rows(html: str) -> list[list[str]]:
    parser = _Cells()
    parser.feed(html)
    return parser.rows


def _shown(estimate: dict) -> str:
    """An estimate as the page writes it: three decimals and its interval to two, or why it is undefined."""
    if estimate["value"] is None:
        return f"undefined {estimate['undefined']}"
    if estimate["ci_low"] is None:
        return f"{estimate['value']:.3f}"
    return f"{estimate['value']:.3f} [{estimate['ci_low']:.2f}, {estimate['ci_high']:.2f}]"


def _expected_rows(field: dict) -> list[list[str]]:
    weights = ("unweighted",) if field["level"] == "nominal" else ("unweighted", "linear", "quadratic")
    return [
        [f"{pair['raters'][0]} · {pair['raters'][1]}", str(pair["n_units"]), *(_shown(pair[w]) for w in weights)]
        for pair in field["report"]["cohen_kappa"]
    ]


def test_the_page_keeps_each_fields_pairs_line_and_a_control_to_load_them_but_not_their_table(
    client, project, curator, reviewers
):
    report = project_agreement_refresh(project_id=project.pk)
    client.force_login(curator)

    html = client.get(_url(project)).content.decode()

    assert "Clarity (3 pairs)" in html and "Decision (3 pairs)" in html
    assert 'data-testid="pairs"' not in html and "Ana Ruiz · Ben Okafor" not in html
    fetch = f"{_url(project)}?kappa={_ref(report, 'clarity')}"
    assert f'hx-get="{fetch}" hx-trigger="toggle once" hx-target="find .pairs-body" hx-swap="outerHTML"' in html
    assert html.count('hx-trigger="toggle once"') == len(report["schemas"][0]["fields"])
    assert f'href="{fetch}#pairs-' in html  # the same table without JavaScript


@pytest.mark.parametrize("key", ["clarity", "decision"], ids=["ordinal", "nominal"])
def test_the_fragment_draws_one_fields_pairs_with_the_figures_of_the_report(client, project, curator, reviewers, key):
    report = project_agreement_refresh(project_id=project.pk)
    client.force_login(curator)

    response = client.get(_url(project), {"kappa": _ref(report, key)}, headers=HTMX)

    fragment = response.content.decode()
    assert response.status_code == 200 and "<html" not in fragment and "<summary>" not in fragment
    assert fragment.strip().startswith('<div class="table-wrap pairs-body" data-testid="pairs">')
    expected = _expected_rows(_field(report, key))
    assert len(expected) == 3 and _rows(fragment) == expected
    assert ("Quadratic" in fragment) == (key == "clarity")


def test_without_javascript_the_link_shows_the_page_with_that_fields_pairs_open(client, project, curator, reviewers):
    report = project_agreement_refresh(project_id=project.pk)
    client.force_login(curator)

    html = client.get(_url(project), {"kappa": _ref(report, "clarity")}).content.decode()

    assert "Coefficients by field" in html and "Ana Ruiz" in html
    (opened,) = re.findall(r'<details class="pairs" id="pairs-[^"]+" open>.*?</details>', html, re.S)
    assert "Clarity (3 pairs)" in opened and _rows(opened) == _expected_rows(_field(report, "clarity"))
    assert html.count('data-testid="pairs"') == 1
    assert html.count('hx-trigger="toggle once"') == len(report["schemas"][0]["fields"]) - 1


def test_reviewer_names_in_the_pairs_are_escaped(client, project, curator):
    _reviewers_join(project, 3, names=("<script>alert(1)</script>", "Ben Okafor", "Chen Wu"))
    report = project_agreement_refresh(project_id=project.pk)
    client.force_login(curator)

    fragment = client.get(_url(project), {"kappa": _ref(report, "clarity")}, headers=HTMX).content.decode()

    assert "<script>" not in fragment and "&lt;script&gt;alert(1)&lt;/script&gt;" in fragment


def test_before_any_report_the_fragment_says_so(client, project, curator, reviewers):
    client.force_login(curator)

    response = client.get(_url(project), {"kappa": f"{project.seed_schema.pk}:clarity"}, headers=HTMX)

    assert response.status_code == 200  # htmx swaps it in, where it would leave an error out
    assert "The agreement report has not been computed yet" in response.content.decode()
    assert f'href="{_url(project)}"' in response.content.decode()


@pytest.mark.parametrize("ref", ["999:clarity", "{schema}:no_such_field", "{schema}", "nonsense"])
def test_a_field_the_last_report_does_not_have_is_answered_with_a_message(client, project, curator, reviewers, ref):
    project_agreement_refresh(project_id=project.pk)
    client.force_login(curator)
    ref = ref.format(schema=project.seed_schema.pk)

    fragment = client.get(_url(project), {"kappa": ref}, headers=HTMX)
    page = client.get(_url(project), {"kappa": ref})

    assert fragment.status_code == 200 and "has no such field" in fragment.content.decode()
    assert page.status_code == 200 and 'data-testid="pairs"' not in page.content.decode()


@pytest.mark.parametrize(("who", "status"), [("clinician", 403), ("outsider", 404)])
def test_the_fragment_is_refused_as_the_page_is_to_whoever_is_not_a_curator(
    client, project, reviewers, request, who, status
):
    report = project_agreement_refresh(project_id=project.pk)
    client.force_login(request.getfixturevalue(who))
    params = {"kappa": _ref(report, "clarity")}

    assert client.get(_url(project)).status_code == status
    assert client.get(_url(project), params, headers=HTMX).status_code == status
    assert client.get(_url(project), params).status_code == status


def test_an_anonymous_visitor_is_sent_to_sign_in_for_the_fragment(client, project, reviewers):
    response = client.get(_url(project), {"kappa": f"{project.seed_schema.pk}:clarity"}, headers=HTMX)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_page_and_the_fragment_cost_the_same_queries_with_few_and_many_reviewers(
    client, project, curator, reviewers, django_assert_num_queries
):
    client.force_login(curator)
    report = project_agreement_refresh(project_id=project.pk)
    requests = [
        ({}, {}),
        ({"kappa": _ref(report, "clarity")}, HTMX),
        ({"kappa": _ref(report, "clarity")}, {}),
    ]
    few = [queries(client, "get", _url(project), data=params, headers=headers) for params, headers in requests]

    _reviewers_join(project, RATERS_SHOWN + 5)
    report = project_agreement_refresh(project_id=project.pk)

    assert report["schemas"][0]["fields"][0]["report"]["n_rater_pairs"] > 20  # more than the pairs kept
    for (params, headers), count in zip(requests, few, strict=True):
        with django_assert_num_queries(count):
            assert client.get(_url(project), params, headers=headers).status_code == 200
    assert few[1] == few[0]  # the fragment reads what the page reads
