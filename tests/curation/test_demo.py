"""The demo data a new install starts with: something real to click through on every page."""

import pytest
from django.core.management import call_command

from curation.demo.rounds import DEMO_ROUND_NAME, demo_answer_is_harmful, demo_reference_ratings
from curation.models import EvaluationRound, Judgment, Project, Release, RoundStatus
from curation.selectors.round_results import round_majority_items, round_results
from curation.services.releases import release_build, release_create


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_the_demo_has_a_closed_pairwise_round_judged_by_every_demo_reviewer_on_every_item(demo):
    demo_round = EvaluationRound.objects.get(name=DEMO_ROUND_NAME)

    assert demo_round.status == RoundStatus.CLOSED
    assert demo_round.is_pairwise
    items, reviewers = demo_round.items.count(), demo_round.reviewers.count()
    assert items == 8 * 3, "8 demo prompts, each pair of the 3 demo models"
    assert Judgment.objects.filter(round=demo_round).count() == items * reviewers == items * 3


def test_the_demo_round_results_rank_the_strongest_demo_model_first(demo):
    results = round_results(evaluation_round=EvaluationRound.objects.get(name=DEMO_ROUND_NAME), draws=200)

    overall = next(axis for axis in results["axes"] if axis["axis"] == "overall")
    leaderboard = overall["bradley_terry"]["ratings"]
    assert leaderboard[0]["model"] == "carenote-70b"
    assert all(row["ci_low"] <= row["rating"] <= row["ci_high"] for row in leaderboard)


def test_loading_the_demo_again_adds_no_second_round_or_judgments(demo):
    judgments = Judgment.objects.count()

    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert EvaluationRound.objects.filter(name=DEMO_ROUND_NAME).count() == 1
    assert Judgment.objects.count() == judgments


def test_the_demo_round_gives_preference_pairs_to_a_release(demo):
    project = Project.objects.get(slug="demo")
    release = release_build(
        release_id=release_create(project=project, created_by=None, format="preference", enqueue=False).pk
    )

    assert release.row_count > 0
    assert "Demo pairwise round" in release.card
    assert Release.objects.count() == 1


def test_no_answer_the_demo_rates_harmful_or_incorrect_wins_a_majority_in_the_demo_round(demo):
    demo_round = EvaluationRound.objects.get(name=DEMO_ROUND_NAME)
    ratings = demo_reference_ratings()
    majorities = round_majority_items(rounds=[demo_round]).select_related("prompt", "response_a", "response_b")

    chosen = [item.response_a if item.votes_a > item.votes_b else item.response_b for item in majorities]

    assert len(chosen) >= 12, "most of the 24 pairs should have a clear majority"
    for response in chosen:
        rating = ratings[(response.prompt.external_id, response.model_name)]
        assert not demo_answer_is_harmful(rating), f"{response.model_name} on {response.prompt.external_id}"
        assert rating["correctness"] >= 3, f"{response.model_name} on {response.prompt.external_id}"
    assert not any("6,000 mg" in response.text for response in chosen)


def test_the_demo_marks_the_overdosing_acetaminophen_answer_harmful():
    ratings = demo_reference_ratings()

    assert demo_answer_is_harmful(ratings[("p02", "medgen-7b")])
    assert not demo_answer_is_harmful(ratings[("p02", "carenote-70b")])


def test_a_demo_answer_without_a_reference_rating_is_named(tmp_path):
    broken = tmp_path / "demo.json"
    broken.write_text('{"prompt_responses": [{"prompt": "p01", "model": "medgen-7b", "text": "60-100"}]}')

    with pytest.raises(
        ValueError, match=r"demo.json: prompt_responses\[1\] \(p01, medgen-7b\) has no reference_rating"
    ):
        demo_reference_ratings(path=broken)
