"""The cells of the agreement page's table of reviewers: how often a reviewer matches the others on a field,
with the items and alpha without them in the cell's title, and how alpha moves without them."""

import pytest
from django.urls import reverse

from curation.services.agreement import project_agreement_refresh
from curation.templatetags.concord import rater_cell
from tests.agreement.test_page_reads import _reviewers_join

ALPHA = "\N{GREEK SMALL LETTER ALPHA}"


def _cell(**changes) -> dict:
    cell = {
        "rater": "Ana Ruiz",
        "n_units": 12,
        "agreement_with_others": {"value": 0.8333, "ci_low": 0.6, "ci_high": 0.95, "n_units": 12, "undefined": None},
        "alpha_without": 0.816838,
        "alpha_gain_without": -0.0412,
        "outlier": False,
    }
    return {**cell, **changes}


@pytest.mark.parametrize(
    ("cell", "html"),
    [
        (
            _cell(),
            f'<td class="num"><span title="12 items; {ALPHA} without this reviewer: 0.816838">0.83</span>'
            f'<br><span class="muted small">{ALPHA} -0.04 without</span></td>',
        ),
        (
            _cell(alpha_without=0.95, alpha_gain_without=0.1167, outlier=True),
            f'<td class="num outlier-cell"><span title="12 items; {ALPHA} without this reviewer: 0.95">0.83</span>'
            f'<br><span class="muted small">{ALPHA} +0.12 without</span></td>',
        ),
        (
            _cell(agreement_with_others={"value": None, "undefined": "no other reviews"}, alpha_without=None),
            f'<td class="num"><span title="12 items; {ALPHA} without this reviewer: undefined">'
            f'<span class="muted">-</span></span><br><span class="muted small">{ALPHA} -0.04 without</span></td>',
        ),
        (
            _cell(alpha_without=1e-06, alpha_gain_without=None),
            f'<td class="num"><span title="12 items; {ALPHA} without this reviewer: 0.000001">0.83</span></td>',
        ),
        (None, '<td class="num"><span class="muted">-</span></td>'),
    ],
    ids=["agreeing", "outlier", "undefined", "no change computed", "did not rate the field"],
)
def test_a_reviewers_cell_shows_their_agreement_and_alpha_without_them(cell, html):
    assert rater_cell(cell) == html


def test_the_page_draws_a_cell_per_reviewer_and_field(client, project, curator):
    _reviewers_join(project, 3, names=("Ana Ruiz", "Ben Okafor", "Chen Wu"))
    report = project_agreement_refresh(project_id=project.pk)
    client.force_login(curator)

    html = client.get(reverse("project_agreement", args=[project.slug])).content.decode()

    table = html[html.index('<table data-testid="raters">') :]
    table = table[: table.index("</table>")]
    (schema,) = report["schemas"]
    assert table.count("<td class=") == 3 * len(schema["fields"])
    ana = next(row for row in schema["fields"][0]["raters"] if row["rater"] == "Ana Ruiz")
    assert rater_cell(ana) in table
