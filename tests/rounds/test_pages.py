"""Round pages and API: setup and freezing through the page, blind judging, results, CSV."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from curation.formats.writers.rounds_csv import results_csv_lines, votes_csv_lines
from curation.models import EvaluationRound, Judgment, RoundStatus
from curation.selectors.round_judging import round_next_slot
from curation.services.round_judging import judgment_submit
from curation.services.round_results import round_results_refresh
from curation.services.round_schedules import round_freeze
from curation.services.rounds import round_create
from curation.stats.ranking import PairwiseVote
from tests.factories import ClinicianFactory, MembershipFactory, ModelResponseFactory, PromptFactory

MODELS = ("secret-model-alpha", "secret-model-beta", "secret-model-gamma")
ANSWERS = {"a-overall": "a", "a-correctness": "b", "a-helpfulness": "tie", "a-harm": "both_bad"}
API_ANSWERS = {"overall": "a", "correctness": "a", "helpfulness": "a", "harm": "b"}


@pytest.fixture
def second_clinician(project):
    user = ClinicianFactory(email="second@example.org")
    MembershipFactory(project=project, user=user)
    return user


@pytest.fixture
def prompts(project):
    made = []
    for n in range(4):
        prompt = PromptFactory(project=project, input="", difficulty=2, instruction=f"Prompt {n} <script>x()</script>")
        for m, model in enumerate(MODELS):
            ModelResponseFactory(
                prompt=prompt, seed_task=None, model_name=model, text=f"Answer {m}{'!' * m} **bold** <b>raw</b>"
            )
        made.append(prompt)
    return made


@pytest.fixture
def open_round(project, curator, clinician, second_clinician, prompts):
    evaluation_round = round_create(
        project=project,
        created_by=curator,
        name="Blind round",
        mode="pairwise",
        models=list(MODELS),
        reviewers=[clinician, second_clinician],
        judgments_per_item=2,
    )
    return round_freeze(evaluation_round=evaluation_round)


def judge_url(evaluation_round):
    return reverse("round_judge", args=[evaluation_round.project.slug, evaluation_round.pk])


def assert_blind(content: str):
    for model in MODELS:
        assert model not in content
    assert "secret-model" not in content


class TestSetupPage:
    def test_a_curator_sets_up_a_sampled_round_and_freezes_it(self, client, project, curator, clinician, prompts):
        client.force_login(curator)
        page = client.get(reverse("round_create", args=[project.slug]))
        assert page.status_code == 200
        for model in MODELS:
            assert model in page.content.decode()
        response = client.post(
            reverse("round_create", args=[project.slug]),
            {
                "name": "Sampled",
                "mode": "pairwise",
                "models": [f"{m}::0.3" for m in MODELS[:2]],
                "reference_model": "",
                "pairing": "all_pairs",
                "prompt_scope": "sample",
                "sample_size": 2,
                "seed": 3,
                "judgments_per_item": 1,
                "reviewers": [clinician.pk],
            },
        )
        evaluation_round = EvaluationRound.objects.get(name="Sampled")
        assert response.status_code == 302
        assert evaluation_round.round_prompts.count() == 2
        assert evaluation_round.status == RoundStatus.DRAFT
        client.post(reverse("round_freeze", args=[project.slug, evaluation_round.pk]))
        evaluation_round.refresh_from_db()
        assert evaluation_round.status == RoundStatus.FROZEN
        assert evaluation_round.slots.count() == 2

    def test_a_bad_setup_shows_the_services_message_and_creates_nothing(
        self, client, project, curator, clinician, prompts
    ):
        client.force_login(curator)
        response = client.post(
            reverse("round_create", args=[project.slug]),
            {
                "name": "Too many",
                "mode": "pairwise",
                "models": [f"{m}::0.3" for m in MODELS],
                "pairing": "all_pairs",
                "prompt_scope": "all",
                "seed": 1,
                "judgments_per_item": 3,
                "reviewers": [clinician.pk],
            },
        )
        assert response.status_code == 200
        assert "need at least 3 reviewers" in response.content.decode()
        assert not EvaluationRound.objects.exists()

    def test_freezing_twice_says_the_definition_cannot_change(self, client, project, curator, open_round):
        client.force_login(curator)
        response = client.post(reverse("round_freeze", args=[project.slug, open_round.pk]), follow=True)
        assert "can no longer change" in response.content.decode()

    def test_the_round_page_shows_each_reviewers_progress_in_queries_that_do_not_grow_with_reviewers(
        self, client, project, curator, clinician, second_clinician, prompts
    ):
        def round_with(reviewers, name):
            made = round_create(
                project=project, created_by=curator, name=name, mode="pairwise", models=list(MODELS),
                reviewers=reviewers, judgments_per_item=2,
            )  # fmt: skip
            return round_freeze(evaluation_round=made)

        small = round_with([clinician, second_clinician], "Two reviewers")
        extra = [ClinicianFactory() for _ in range(4)]
        for user in extra:
            MembershipFactory(project=project, user=user)
        large = round_with([clinician, second_clinician, *extra], "Six reviewers")
        slot = round_next_slot(evaluation_round=small, reviewer=clinician)
        judgment_submit(slot=slot, reviewer=clinician, answers={k[2:]: v for k, v in ANSWERS.items()})
        client.force_login(curator)

        def page(evaluation_round):
            with CaptureQueriesContext(connection) as queries:
                html = client.get(reverse("round_detail", args=[project.slug, evaluation_round.pk])).content.decode()
            return html, len(queries)

        (small_html, small_queries), (large_html, large_queries) = page(small), page(large)
        assert f"{clinician.get_full_name() or clinician.email}: 1 / 12" in small_html
        assert f"{second_clinician.get_full_name() or second_clinician.email}: 0 / 12" in small_html
        assert large_html.count(" / 4</li>") == 6
        assert large_queries == small_queries

    def test_closing_says_so_and_closing_again_says_why_it_cannot(self, client, project, curator, open_round):
        client.force_login(curator)
        url = reverse("round_close", args=[project.slug, open_round.pk])

        closed = client.post(url, follow=True).content.decode()
        again = client.post(url, follow=True)

        assert "Closed: no more judgments are taken" in closed
        assert again.redirect_chain[-1][0] == reverse("round_detail", args=[project.slug, open_round.pk])
        assert "Only a round open for judging can be closed." in again.content.decode()

    def test_closing_a_round_stops_judging(self, client, project, curator, clinician, open_round):
        client.force_login(curator)
        client.post(reverse("round_close", args=[project.slug, open_round.pk]))
        open_round.refresh_from_db()
        assert open_round.status == RoundStatus.CLOSED
        client.force_login(clinician)
        assert "Judging is not open" in client.get(judge_url(open_round)).content.decode()


class TestBlindJudging:
    def test_the_judging_page_never_names_a_model(self, client, clinician, open_round):
        client.force_login(clinician)
        response = client.get(judge_url(open_round))
        content = response.content.decode()
        assert response.status_code == 200
        assert "Answer A" in content and "Answer B" in content
        assert_blind(content)

    def test_user_text_is_escaped_and_markdown_is_rendered(self, client, clinician, open_round):
        client.force_login(clinician)
        content = client.get(judge_url(open_round)).content.decode()
        assert "<script>x()</script>" not in content and "&lt;script&gt;" in content
        assert "<strong>bold</strong>" in content and "<b>raw</b>" not in content

    def test_submitting_through_htmx_returns_the_next_item_as_a_fragment(self, client, clinician, open_round):
        client.force_login(clinician)
        slot = round_next_slot(evaluation_round=open_round, reviewer=clinician)
        response = client.post(
            judge_url(open_round),
            {"slot": slot.pk, **ANSWERS, "a-rationale": "B missed a dose"},
            headers={"HX-Request": "true"},
        )
        content = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in content and 'id="judge-item"' in content
        assert_blind(content)
        judgment = Judgment.objects.get(slot=slot)
        assert judgment.answers == {
            "overall": "a",
            "correctness": "b",
            "helpfulness": "tie",
            "harm": "both_bad",
            "rationale": "B missed a dose",
        }
        assert f'value="{slot.pk}"' not in content

    def test_a_plain_post_redirects_to_the_next_item(self, client, clinician, open_round):
        client.force_login(clinician)
        slot = round_next_slot(evaluation_round=open_round, reviewer=clinician)
        response = client.post(judge_url(open_round), {"slot": slot.pk, **ANSWERS})
        assert response.status_code == 302 and response["Location"] == judge_url(open_round)

    def test_a_missing_answer_is_reported_and_saves_nothing(self, client, clinician, open_round):
        client.force_login(clinician)
        slot = round_next_slot(evaluation_round=open_round, reviewer=clinician)
        response = client.post(judge_url(open_round), {"slot": slot.pk, "a-overall": "a"})
        content = response.content.decode()
        assert response.status_code == 400
        assert "is required" in content
        assert_blind(content)
        assert not Judgment.objects.exists()

    def test_a_reviewer_cannot_judge_someone_elses_slot(self, client, clinician, second_clinician, open_round):
        client.force_login(clinician)
        theirs = round_next_slot(evaluation_round=open_round, reviewer=second_clinician)
        response = client.post(judge_url(open_round), {"slot": theirs.pk, **ANSWERS})
        assert response.status_code == 404
        assert not Judgment.objects.exists()

    def test_the_api_item_and_judgment_never_name_a_model(self, client, clinician, open_round):
        client.force_login(clinician)
        url = reverse("api_round_next", args=[open_round.project.slug, open_round.pk])
        data = client.get(url)
        assert data.status_code == 200
        assert_blind(data.content.decode())
        item = data.json()["item"]
        assert item["left"] and item["right"]
        submit = reverse("api_round_judgment", args=[open_round.project.slug, open_round.pk])
        body = {"slot": item["slot"], "answers": API_ANSWERS}
        first = client.post(submit, body, content_type="application/json")
        again = client.post(submit, body, content_type="application/json")
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["id"] == again.json()["id"]
        assert_blind(first.content.decode())
        changed = client.post(
            submit, {**body, "answers": {**body["answers"], "overall": "b"}}, content_type="application/json"
        )
        assert changed.status_code == 400 and "cannot be changed" in changed.content.decode()

    def test_the_api_refuses_a_judgment_by_field_as_every_endpoint_does(self, client, clinician, open_round):
        client.force_login(clinician)
        submit = reverse("api_round_judgment", args=[open_round.project.slug, open_round.pk])
        slot = round_next_slot(evaluation_round=open_round, reviewer=clinician)
        no_slot = client.post(submit, {"answers": {"overall": "a"}}, content_type="application/json")
        bad_answer = client.post(
            submit, {"slot": slot.pk, "answers": {**API_ANSWERS, "overall": "c"}}, content_type="application/json"
        )
        assert (no_slot.status_code, bad_answer.status_code) == (400, 400)
        assert set(no_slot.json()) == {"slot"}
        assert set(bad_answer.json()) == {"answers"} and set(bad_answer.json()["answers"]) == {"overall"}
        assert not Judgment.objects.exists()

    def test_a_clinician_who_does_not_review_the_round_cannot_see_it(self, client, project, open_round):
        other = ClinicianFactory()
        MembershipFactory(project=project, user=other)
        client.force_login(other)
        assert client.get(judge_url(open_round)).status_code == 404
        assert client.get(reverse("round_detail", args=[project.slug, open_round.pk])).status_code == 404

    def test_the_round_list_does_not_name_models_to_reviewers(self, client, project, clinician, open_round):
        client.force_login(clinician)
        for url in (
            reverse("round_list", args=[project.slug]),
            reverse("round_detail", args=[project.slug, open_round.pk]),
        ):
            response = client.get(url)
            assert response.status_code == 200
            assert_blind(response.content.decode())


class TestResults:
    @pytest.fixture
    def judged(self, open_round, clinician, second_clinician):
        for reviewer in (clinician, second_clinician):
            while (slot := round_next_slot(evaluation_round=open_round, reviewer=reviewer)) is not None:
                judgment_submit(
                    slot=slot,
                    reviewer=reviewer,
                    answers={"overall": "a", "correctness": "a", "helpfulness": "tie", "harm": "b"},
                )
        round_results_refresh(evaluation_round=open_round)  # what the worker does once judgments arrive
        return open_round

    def test_the_results_page_shows_ratings_with_intervals(self, client, curator, judged):
        client.force_login(curator)
        response = client.get(reverse("round_results", args=[judged.project.slug, judged.pk]))
        content = response.content.decode()
        assert response.status_code == 200
        assert "<svg" in content and "Bradley-Terry" in content
        for model in MODELS:
            assert model in content
        assert 'data-testid="leaderboard-overall"' in content
        assert "Position" in content and "Length" in content and "Krippendorff" in content

    def test_the_results_api_and_csv_agree(self, client, curator, judged):
        client.force_login(curator)
        api = client.get(reverse("api_round_results", args=[judged.project.slug, judged.pk])).json()
        assert api["judgments"] == 24
        overall = next(a for a in api["axes"] if a["axis"] == "overall")
        # Every reviewer chose the left answer: position bias is total.
        assert overall["position_bias"]["left_win_share"] == 1.0
        response = client.get(reverse("round_results_csv", args=[judged.project.slug, judged.pk]))
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0][:5] == ["section", "axis", "model", "opponent", "statistic"]
        assert any(row[0] == "elo" and row[2] in MODELS for row in rows)

    def test_the_votes_csv_gives_rank_models_the_pages_numbers(self, client, curator, judged, tmp_path):
        from curation.management.commands.rank_models import read_votes_csv
        from curation.stats.ranking import pairwise_results

        client.force_login(curator)
        response = client.get(reverse("round_votes_csv", args=[judged.project.slug, judged.pk]) + "?axis=correctness")
        path = tmp_path / "votes.csv"
        path.write_bytes(response.content)
        votes = read_votes_csv(path)
        assert len(votes) == 24
        api = client.get(reverse("api_round_results", args=[judged.project.slug, judged.pk])).json()
        correctness = next(a for a in api["axes"] if a["axis"] == "correctness")
        again = pairwise_results(votes, draws=1000, seed=judged.seed)
        assert again["bradley_terry"]["ratings"] == correctness["bradley_terry"]["ratings"]

    def test_an_unknown_axis_is_refused_with_a_message(self, client, curator, judged):
        client.force_login(curator)
        response = client.get(reverse("round_votes_csv", args=[judged.project.slug, judged.pk]) + "?axis=vibes")
        assert response.status_code == 400 and "not a pairwise axis" in response.content.decode()


class TestCsvSafety:
    @pytest.mark.parametrize("dangerous", ["=HYPERLINK(1)", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"])
    def test_text_cells_that_a_spreadsheet_would_run_are_neutralised(self, dangerous):
        vote = PairwiseVote(
            prompt=dangerous, model_a="model-a", model_b="model-b", winner="a", length_a=10, length_b=20, a_side="left"
        )
        _, line = list(votes_csv_lines([vote]))
        cells = next(csv.reader(io.StringIO(line.decode())))
        assert cells == ["'" + dangerous, "model-a", "model-b", "a", "10", "20", "left"]

    def test_numbers_stay_numbers(self):
        results = {
            "scores": [{"axis": "harm", "model": "model-a", "mean": -0.5, "ci_low": -1.5, "ci_high": 0.5, "scores": 2}],
            "axes": [],
        }
        line = list(results_csv_lines(results))[1].decode()
        assert line == "mean_score,harm,model-a,,mean,-0.5,-1.5,0.5,2\r\n"

    def test_a_model_named_like_a_formula_is_neutralised_in_the_export(self):
        results = {
            "scores": [
                {"axis": "correctness", "model": "=cmd()", "mean": 3.0, "ci_low": 2.0, "ci_high": 4.0, "scores": 2}
            ],
            "axes": [],
        }
        rows = [next(csv.reader(io.StringIO(line.decode()))) for line in results_csv_lines(results)]
        assert rows[1][2] == "'=cmd()"


class TestAbsoluteMode:
    @pytest.fixture
    def absolute_round(self, project, curator, clinician, second_clinician, prompts):
        evaluation_round = round_create(
            project=project,
            created_by=curator,
            name="Absolute round",
            mode="absolute",
            models=list(MODELS[:2]),
            reviewers=[clinician, second_clinician],
            judgments_per_item=2,
        )
        return round_freeze(evaluation_round=evaluation_round)

    def test_one_answer_is_rated_on_the_response_form_and_the_results_show_mean_scores(
        self, client, project, curator, clinician, second_clinician, absolute_round
    ):
        answers = {
            "a-correctness": "4",
            "a-helpfulness": "5",
            "a-consensus": "aligned",
            "a-inappropriate_content": "none",
            "a-missing_content": "minor",
            "a-harm_extent": "none",
            "a-harm_likelihood": "low",
            "a-bias": "no",
        }
        for reviewer in (clinician, second_clinician):
            client.force_login(reviewer)
            page = client.get(judge_url(absolute_round)).content.decode()
            assert 'data-testid="answer"' in page and "Answer B" not in page
            item = client.get(reverse("api_round_next", args=[project.slug, absolute_round.pk])).json()["item"]
            assert item["left"] and item["right"] is None
            assert_blind(page)
            while (slot := round_next_slot(evaluation_round=absolute_round, reviewer=reviewer)) is not None:
                response = client.post(judge_url(absolute_round), {"slot": slot.pk, **answers})
                assert response.status_code == 302
        assert Judgment.objects.filter(round=absolute_round).count() == 16
        api = client.get(reverse("api_round_next", args=[project.slug, absolute_round.pk])).json()
        assert api["item"] is None and api["progress"]["done"] == 8

        round_results_refresh(evaluation_round=absolute_round)
        client.force_login(curator)
        content = client.get(reverse("round_results", args=[project.slug, absolute_round.pk])).content.decode()
        assert 'data-testid="mean-scores"' in content
        assert "4.00" in content and "5.00" in content
