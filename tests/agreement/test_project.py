"""Agreement of a project's reviews: what is compared, how a worker computes it for the page, who may see it,
and the CLI."""

import json
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from curation.models import Computation, ComputationStatus
from curation.services import agreement as agreement_service
from curation.services.agreement import (
    project_agreement_compute,
    project_agreement_get,
    project_agreement_latest,
    project_agreement_refresh,
)
from curation.services.reviews import review_submit
from curation.stats.agreement import agreement_report
from tests.agreement.test_stats import KRIPPENDORFF_2011
from tests.factories import ClinicianFactory, MembershipFactory, ModelResponseFactory, SeedTaskFactory

DECISIONS = ["accept", "accept_with_edits", "reject"]


def _seed_answers(clarity: int, decision: str = "accept", flags=()) -> dict:
    return {
        "decision": decision,
        "clinical_validity": 4,
        "clarity": clarity,
        "difficulty": 3,
        "flags": list(flags),
        "comment": "fine",
    }


@pytest.fixture
def reviewers(project):
    people = [ClinicianFactory(name=name) for name in ("Ana Ruiz", "Ben Okafor", "Chen Wu")]
    for person in people:
        MembershipFactory(project=project, user=person)
    return people


# Clarity given by three reviewers to six tasks (None: did not review), and the decision of each.
CLARITY = [(5, 5, 4), (2, 2, 2), (4, 3, 4), (1, 2, None), (3, 3, 3), (5, 4, 5)]
TOPICS = ["Cardiology", "Cardiology", "Cardiology", "Oncology", "Oncology", "Oncology"]


@pytest.fixture
def reviewed(project, reviewers):
    tasks = [SeedTaskFactory(project=project, topic_raw=topic, difficulty=1 + i % 2) for i, topic in enumerate(TOPICS)]
    for task, scores in zip(tasks, CLARITY, strict=True):
        for person, clarity in zip(reviewers, scores, strict=True):
            if clarity is not None:
                decision = DECISIONS[0] if clarity >= 4 else DECISIONS[2]
                flags = ["unsafe"] if clarity == 1 else []
                review_submit(
                    reviewer=person,
                    schema=project.seed_schema,
                    seed_task=task,
                    answers=_seed_answers(clarity, decision, flags),
                )
    return tasks


def _field(report, key):
    (schema,) = report["schemas"]
    return next(f for f in schema["fields"] if f["key"] == key)


def test_each_field_is_compared_at_its_level_from_the_current_reviews(project, reviewed):
    report = project_agreement_compute(project=project, draws=200)
    clarity = _field(report, "clarity")
    expected = agreement_report(np.array(CLARITY, dtype=float), "ordinal", draws=0)["alpha"]["value"]
    assert clarity["level"] == "ordinal"
    assert clarity["report"]["alpha"]["value"] == pytest.approx(expected)
    assert clarity["report"]["n_units"] == 6
    assert clarity["report"]["alpha"]["ci_low"] <= expected <= clarity["report"]["alpha"]["ci_high"]
    assert _field(report, "decision")["level"] == "nominal"
    assert "gwet_ac1" in _field(report, "decision")["report"]
    json.dumps(report, allow_nan=False)


def test_multiple_choice_becomes_a_yes_no_comparison_per_option_and_free_text_is_skipped(project, reviewed):
    report = project_agreement_compute(project=project, draws=0)
    (schema,) = report["schemas"]
    keys = [f["key"] for f in schema["fields"]]
    assert {"flags.unsafe", "flags.phi", "flags.needs_specialist"} <= set(keys)
    assert _field(report, "flags.unsafe")["note"] == "one yes/no comparison per option"
    assert schema["skipped"] == [{"key": "comment", "label": "Comment", "reason": "free text is not compared"}]
    # Nobody flagged PHI: the reviewers agree on every item, but there is no variation to measure.
    phi = _field(report, "flags.phi")["report"]
    assert phi["percent_agreement"]["value"] == 1.0
    assert phi["alpha"]["value"] is None and "same value" in phi["alpha"]["undefined"]


def test_ordinal_choices_are_coded_in_the_order_of_their_options(project, reviewers):
    answers = {"correctness": 3, "helpfulness": 3, "consensus": "aligned", "missing_content": "none", "bias": "no"}
    answers.update(inappropriate_content="none", harm_likelihood="low")
    # "moderate" lies between "none" and "severe" in the options, not where the alphabet puts it.
    harms = [("none", "moderate"), ("moderate", "severe"), ("severe", "severe"), ("none", "none")]
    for a, b in harms:
        response = ModelResponseFactory(seed_task=SeedTaskFactory(project=project))
        for person, harm in zip(reviewers, (a, b), strict=False):
            review_submit(
                reviewer=person,
                schema=project.response_schema,
                response=response,
                answers={**answers, "harm_extent": harm},
            )
    report = project_agreement_compute(project=project, draws=0)
    harm = next(f for f in report["schemas"][0]["fields"] if f["key"] == "harm_extent")
    codes = {"none": 0, "moderate": 1, "severe": 2}
    expected = agreement_report(np.array([[codes[a], codes[b]] for a, b in harms], float), "ordinal", draws=0)
    assert harm["level"] == "ordinal"
    assert harm["report"]["alpha"]["value"] == pytest.approx(expected["alpha"]["value"])


def test_a_superseded_review_no_longer_counts(project, reviewers, reviewed):
    before = _field(project_agreement_compute(project=project, draws=0), "clarity")["report"]
    review_submit(
        reviewer=reviewers[0], schema=project.seed_schema, seed_task=reviewed[1], answers=_seed_answers(5, "accept")
    )
    after = _field(project_agreement_compute(project=project, draws=0), "clarity")["report"]
    assert after["n_ratings"] == before["n_ratings"]
    assert after["alpha"]["value"] < before["alpha"]["value"]


def test_per_rater_and_slice_breakdowns_name_reviewers_and_topics(project, reviewed):
    report = project_agreement_compute(project=project, draws=100)
    clarity = _field(report, "clarity")
    assert {row["rater"] for row in clarity["raters"]} == {"Ana Ruiz", "Ben Okafor", "Chen Wu"}
    topics = {row["slice"]: row for row in report["schemas"][0]["slices"]["topic"]}
    assert set(topics) == {"Cardiology", "Oncology"}
    assert topics["Cardiology"]["fields"]["clarity"]["n_units"] == 3
    assert {row["slice"] for row in report["schemas"][0]["slices"]["difficulty"]} == {"1", "2"}


def test_the_report_is_shown_until_a_new_review_arrives_then_marked_stale_until_recomputed(
    project, reviewers, reviewed
):
    first = project_agreement_refresh(project_id=project.pk)
    with CaptureQueriesContext(connection) as shown:
        latest = project_agreement_latest(project=project)
    assert latest.result == first and latest.current
    assert len(shown) == 2  # the computation, and the latest review id from its index
    review_submit(
        reviewer=reviewers[2], schema=project.seed_schema, seed_task=reviewed[3], answers=_seed_answers(1, "reject")
    )
    stale = project_agreement_latest(project=project)
    assert stale.stale and stale.result == first
    fresh = project_agreement_refresh(project_id=project.pk)
    assert fresh["n_reviews"] == first["n_reviews"] + 1
    assert _field(fresh, "clarity")["report"]["n_ratings"] == _field(first, "clarity")["report"]["n_ratings"] + 1
    assert project_agreement_latest(project=project).current


def test_the_first_request_queues_one_run_for_the_worker_which_publishes_the_report(
    project, reviewed, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr("curation.jobs.computation_run_task.delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        assert project_agreement_latest(project=project).computing
        assert project_agreement_latest(project=project).computing
    (computation,) = Computation.objects.all()
    assert queued == [computation.pk]  # a second request does not queue the same work again

    from curation.jobs import computation_run_task

    assert computation_run_task(computation.pk) == ComputationStatus.IDLE
    latest = project_agreement_latest(project=project)
    assert latest.current and latest.result["n_reviews"] == len(reviewed) * 3 - 1 == 17


def test_a_job_that_needs_the_figures_computes_a_small_project_itself_and_waits_for_no_worker(project, reviewed):
    assert project_agreement_get(project=project)["n_reviews"] == 17
    assert project_agreement_latest(project=project).current  # and published it for the page
    assert project_agreement_get(project=project, inline_limit=5) == project_agreement_latest(project=project).result


# The page


def test_curators_see_coefficients_with_intervals_for_every_field(client, project, curator, reviewed):
    project_agreement_refresh(project_id=project.pk)
    client.force_login(curator)
    response = client.get(reverse("project_agreement", args=[project.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Coefficients by field" in html and "Gwet" in html
    assert 'data-testid="coefficients"' in html and "<svg" in html
    assert "Clarity" in html and "Ana Ruiz" in html and "Cardiology" in html
    assert "free text is not compared" in html


def test_the_page_lists_kappa_for_the_pairs_sharing_the_most_items_and_says_how_many_pairs_there_are(
    client, project, curator, reviewed, monkeypatch
):
    monkeypatch.setattr(agreement_service, "PAIRS_KEPT", 2)
    report = project_agreement_refresh(project_id=project.pk)
    clarity = _field(report, "clarity")["report"]
    assert clarity["n_rater_pairs"] == 3 and len(clarity["cohen_kappa"]) == 2
    # The pair sharing all six tasks, then one of the two sharing five.
    assert sorted(pair["n_units"] for pair in clarity["cohen_kappa"]) == [5, 6]
    client.force_login(curator)
    html = client.get(reverse("project_agreement", args=[project.slug])).content.decode()
    assert "Clarity (the 2 pairs sharing the most items, of 3)" in html


def test_the_page_lists_the_reviewers_agreeing_least_first_and_all_of_them_when_asked(
    client, project, curator, reviewed, monkeypatch
):
    monkeypatch.setattr("curation.selectors.agreement.RATERS_SHOWN", 2)
    project_agreement_refresh(project_id=project.pk)
    client.force_login(curator)
    url = reverse("project_agreement", args=[project.slug])

    shown = client.get(url).context["schemas"][0]
    everyone = client.get(url, {"raters": "all"}).context["schemas"][0]

    assert [r["name"] for r in everyone["raters_table"]][:2] == [r["name"] for r in shown["raters_table"]]
    lowest = [min(c["agreement_with_others"]["value"] for c in r["cells"] if c) for r in everyone["raters_table"]]
    assert lowest == sorted(lowest) and len(lowest) == shown["n_raters"] == 3
    assert 'data-testid="raters-shown"' in client.get(url).content.decode()


def test_a_member_clinician_may_not_see_agreement_because_it_reveals_others_answers(
    client, project, clinician, reviewed
):
    client.force_login(clinician)
    assert client.get(reverse("project_agreement", args=[project.slug])).status_code == 403


def test_the_page_asks_htmx_for_a_fragment_and_polls_while_a_worker_computes(client, project, curator, reviewed):
    client.force_login(curator)
    url = reverse("project_agreement", args=[project.slug])
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div id="agreement-body">')
    assert "<html" not in fragment
    assert f'hx-get="{url}"' in fragment and f'href="{url}"' in fragment
    assert 'data-testid="computing"' in fragment and "Coefficients by field" not in fragment


def test_reviewer_names_and_labels_are_escaped(client, project, curator, reviewers, reviewed):
    reviewers[0].name = "<script>alert(1)</script>"
    reviewers[0].save(update_fields=["name"])
    project_agreement_refresh(project_id=project.pk)
    client.force_login(curator)
    html = client.get(reverse("project_agreement", args=[project.slug])).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_the_page_query_count_does_not_grow_with_reviews(client, project, curator, reviewers):
    client.force_login(curator)
    url = reverse("project_agreement", args=[project.slug])

    def grow(n):
        for _ in range(n):
            task = SeedTaskFactory(project=project)
            for person, clarity in zip(reviewers, (3, 4, 3), strict=True):
                review_submit(
                    reviewer=person, schema=project.seed_schema, seed_task=task, answers=_seed_answers(clarity)
                )
        project_agreement_refresh(project_id=project.pk)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    assert grow(2) == grow(10)


# The command line


def _csv(tmp_path, text: str):
    path = tmp_path / "ratings.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _krippendorff_csv(tmp_path):
    lines = ["unit,rater,value"]
    for unit, row in enumerate(KRIPPENDORFF_2011, start=1):
        for rater, value in zip("ABCD", row, strict=True):
            if not np.isnan(value):
                lines.append(f"u{unit},{rater},{int(value)}")
    return _csv(tmp_path, "\n".join(lines) + "\n")


@pytest.mark.parametrize(("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)])
def test_the_command_prints_every_coefficient_with_its_interval_as_json(tmp_path, level, published):
    out = StringIO()
    call_command("agreement", "--ratings", str(_krippendorff_csv(tmp_path)), "--level", level, stdout=out)
    result = json.loads(out.getvalue())
    assert result["alpha"]["value"] == pytest.approx(published, abs=5e-4)
    assert result["percent_agreement"]["value"] == pytest.approx(0.8182, abs=5e-5)
    assert result["alpha"]["ci_low"] <= result["alpha"]["value"] <= result["alpha"]["ci_high"]
    assert result["fleiss_kappa"]["undefined"].startswith("units have different numbers of ratings")
    assert len(result["cohen_kappa"]) == 6 and len(result["per_rater"]) == 4
    if level == "nominal":
        assert result["gwet_ac1"]["value"] == pytest.approx(0.7754, abs=5e-5)


@pytest.mark.parametrize(
    ("text", "level", "message"),
    [
        ("unit,coder,value\nu1,A,1\n", "nominal", "line 1: the header must be unit,rater,value"),
        ("unit,rater,value\nu1,A,1\nu1,,2\n", "nominal", "line 3: the rater is missing"),
        ("unit,rater,value\nu1,A,1\n,B,2\n", "nominal", "line 3: the unit is missing"),
        ("unit,rater,value\nu1,A,1\nu1,B,high\n", "ordinal", "line 3: the value 'high' is not a number"),
        ("unit,rater,value\nu1,A,1\nu1,B,2,3\n", "interval", "line 3: expected 3 columns"),
        (
            "unit,rater,value\nu1,A,1\nu2,A,2\nu1,A,3\n",
            "nominal",
            "line 4: rater 'A' already rated unit 'u1' on line 2",
        ),
        ("unit,rater,value\n", "nominal", "no ratings after the header"),
    ],
)
def test_the_command_names_the_line_of_a_bad_row_and_prints_nothing(tmp_path, text, level, message):
    out = StringIO()
    with pytest.raises(CommandError, match=message):
        call_command("agreement", "--ratings", str(_csv(tmp_path, text)), "--level", level, stdout=out)
    assert out.getvalue() == ""


def test_the_command_computes_a_project_from_its_current_reviews(project, reviewed):
    out = StringIO()
    call_command("agreement", "--project", project.slug, "--draws", "100", stdout=out)
    result = json.loads(out.getvalue())
    assert result["project"] == project.slug
    assert _field(result, "clarity")["report"]["n_units"] == 6


def test_the_command_refuses_an_unknown_project(db):
    with pytest.raises(CommandError, match="no project with the slug 'nope'"):
        call_command("agreement", "--project", "nope", stdout=StringIO())


def test_with_one_review_per_item_the_page_says_undefined_and_why(client, project, curator, reviewers):
    for person in reviewers:
        task = SeedTaskFactory(project=project)
        review_submit(reviewer=person, schema=project.seed_schema, seed_task=task, answers=_seed_answers(3))
    project_agreement_refresh(project_id=project.pk)
    client.force_login(curator)
    html = client.get(reverse("project_agreement", args=[project.slug])).content.decode()
    # The reason stands beside the word, not only in a tooltip.
    assert (
        'undefined</span><br><span class="muted small undefined-reason">fewer than two units have two or more ratings'
        in html
    )
    assert "undefined: fewer than two units have two or more ratings" in html  # the chart's row says it too
    assert "0 by two or more reviewers" in html


def test_fleiss_kappa_undefined_for_uneven_reviews_says_why_on_the_page(client, project, curator, reviewers):
    first, second, third = reviewers[:3]
    for answers in ((3, 3, 4), (2, 2, 2), (5, 4, 5), (1, 2, 1)):
        task = SeedTaskFactory(project=project)
        for person, value in zip((first, second, third), answers, strict=True):
            review_submit(reviewer=person, schema=project.seed_schema, seed_task=task, answers=_seed_answers(value))
    task = SeedTaskFactory(project=project)
    for person in (first, second):
        review_submit(reviewer=person, schema=project.seed_schema, seed_task=task, answers=_seed_answers(4))
    project_agreement_refresh(project_id=project.pk)
    client.force_login(curator)

    html = client.get(reverse("project_agreement", args=[project.slug])).content.decode()

    assert "units have different numbers of ratings (2 to 3); Fleiss&#x27; kappa needs the same number" in html


# The API


def test_the_api_returns_the_report_the_page_shows_as_strict_json(client, project, curator, reviewed):
    project_agreement_refresh(project_id=project.pk)
    client.force_login(curator)

    response = client.get(reverse("api_agreement", args=[project.slug]))

    assert response.status_code == 200
    body = response.content.decode()
    assert "NaN" not in body and "Infinity" not in body
    report = json.loads(body)
    assert (report.pop("stale"), report.pop("computing")) == (False, False)
    assert report == json.loads(json.dumps(project_agreement_latest(project=project).result))
    assert _field(report, "clarity")["report"]["n_ratings"] == 17


def test_the_api_answers_202_with_where_to_poll_while_a_worker_computes_the_first_report(
    client, project, curator, reviewed
):
    client.force_login(curator)
    url = reverse("api_agreement", args=[project.slug])

    response = client.get(url)

    assert response.status_code == 202
    assert response.json()["status"] == "computing" and response["Location"] == url


def test_the_api_says_when_reviews_arrived_since_the_report_and_a_post_queues_a_new_one(
    client, project, curator, reviewers, reviewed, monkeypatch, django_capture_on_commit_callbacks
):
    project_agreement_refresh(project_id=project.pk)
    review_submit(
        reviewer=reviewers[2], schema=project.seed_schema, seed_task=reviewed[3], answers=_seed_answers(1, "reject")
    )
    client.force_login(curator)
    url = reverse("api_agreement", args=[project.slug])
    assert client.get(url).json()["stale"] is True
    queued = []
    monkeypatch.setattr("curation.jobs.computation_run_task.delay", queued.append)

    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(url)

    assert posted.status_code == 202 and posted["Location"] == url
    assert queued == [Computation.objects.get().pk]
    assert client.get(url).json()["computing"] is True


def test_the_api_refuses_agreement_to_a_member_clinician(client, project, clinician, reviewed):
    client.force_login(clinician)
    assert client.get(reverse("api_agreement", args=[project.slug])).status_code == 403
