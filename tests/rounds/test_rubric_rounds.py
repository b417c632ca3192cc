"""Rounds whose question is rubric grading: each response of the round graded blind against its prompt's
accepted rubric, and a rubric leaderboard (per model, per axis, per theme, with bootstrap intervals) on the
round's results, from the page, the API and the command line."""

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from curation.models import EvaluationRound, Judgment, RoundStatus, RubricGrade
from curation.selectors.round_judging import round_next_slot
from curation.selectors.round_results import round_results
from curation.selectors.rubrics import rubric_criteria, rubric_current_version
from curation.services.reviews import AnswersInvalid
from curation.services.round_judging import judgment_submit
from curation.services.round_results import round_results_latest, round_results_refresh
from curation.services.round_schedules import round_freeze
from curation.services.rounds import round_create
from curation.services.rubrics import (
    RubricInput,
    rubric_accept,
    rubric_create,
    rubric_edit,
    rubric_grade_submit,
    rubric_submit,
)
from tests.factories import ClinicianFactory, MembershipFactory, ModelResponseFactory, PromptFactory
from tests.rubrics.conftest import CRITERIA

MODELS = ("secret-model-alpha", "secret-model-beta")
# Marks per criterion (CRITERIA: +8 accuracy, +4 context awareness, -6 accuracy, +5 context awareness),
# by (model, prompt, reviewer number). Alpha meets every positive criterion everywhere: 17 / 17.
# Beta on "fever": both mark criterion 1 met, one also criterion 3 (a tie: not met) -> 8 / 17.
# Beta on "chest": nothing met -> 0. Beta overall: (8/17 + 0) / 2 = 4/17.
ALPHA = (True, True, False, True)
MARKS = {
    (MODELS[0], "fever", 0): ALPHA,
    (MODELS[0], "fever", 1): ALPHA,
    (MODELS[0], "chest", 0): ALPHA,
    (MODELS[0], "chest", 1): ALPHA,
    (MODELS[1], "fever", 0): (True, False, True, False),
    (MODELS[1], "fever", 1): (True, False, False, False),
    (MODELS[1], "chest", 0): (False, False, False, False),
    (MODELS[1], "chest", 1): (False, False, False, False),
}


@pytest.fixture
def second(project):
    user = ClinicianFactory(email="second@example.org")
    MembershipFactory(project=project, user=user)
    return user


def accepted(prompt, author, reviewer, theme):
    rubric = rubric_create(
        prompt=prompt, author=author, criteria=CRITERIA, row=RubricInput(example_tags=[f"theme:{theme}"])
    )
    rubric_submit(rubric_id=rubric.pk, author=author)
    return rubric_accept(rubric_id=rubric.pk, reviewer=reviewer)


@pytest.fixture
def prompts(project, clinician, second):
    """Two prompts with accepted rubrics, one without; both models answered all three."""
    made = {}
    for key, theme in (("fever", "emergency"), ("chest", "cardiology"), ("rash", None)):
        prompt = PromptFactory(project=project, external_id=key, instruction=f"About my {key}.")
        for model in MODELS:
            ModelResponseFactory(prompt=prompt, seed_task=None, model_name=model, text=f"On {key}: rest.")
        if theme:
            accepted(prompt, clinician, second, theme)
        made[key] = prompt
    return made


def rubric_round(project, curator, reviewers, **changes):
    definition = {
        "project": project,
        "created_by": curator,
        "name": "Rubric round",
        "mode": "absolute",
        "question": "rubric",
        "models": list(MODELS),
        "reviewers": reviewers,
        "judgments_per_item": 2,
        **changes,
    }
    return round_create(**definition)


@pytest.fixture
def open_round(project, curator, clinician, second, prompts):
    return round_freeze(evaluation_round=rubric_round(project, curator, [clinician, second]))


def marks_for(slot, reviewer_number):
    prompt = slot.item.prompt
    criteria = rubric_criteria(version=rubric_current_version(rubric=prompt.rubric))
    flags = MARKS[(slot.left_response.model_name, prompt.external_id, reviewer_number)]
    return {str(c.pk): flag for c, flag in zip(criteria, flags, strict=True)}


def judge_everything(evaluation_round, reviewers):
    for number, reviewer in enumerate(reviewers):
        while (slot := round_next_slot(evaluation_round=evaluation_round, reviewer=reviewer)) is not None:
            judgment_submit(slot=slot, reviewer=reviewer, answers={"rubric": marks_for(slot, number)})


class TestSetup:
    def test_a_rubric_round_takes_only_prompts_with_an_accepted_rubric(self, project, curator, clinician, prompts):
        evaluation_round = rubric_round(project, curator, [clinician], judgments_per_item=1)
        assert evaluation_round.grades_rubric
        assert evaluation_round.schema.name == "Rubric grading"
        chosen = set(evaluation_round.round_prompts.values_list("prompt__external_id", flat=True))
        assert chosen == {"fever", "chest"}

    def test_chosen_prompts_without_an_accepted_rubric_are_named(self, project, curator, clinician, prompts):
        with pytest.raises(ValidationError) as raised:
            rubric_round(
                project, curator, [clinician], judgments_per_item=1, prompt_ids=[p.pk for p in prompts.values()]
            )
        assert (
            "1 of the chosen prompts have no accepted rubric to grade against: rash"
            in (raised.value.message_dict["prompts"][0])
        )
        assert not EvaluationRound.objects.exists()

    def test_no_prompt_with_an_accepted_rubric_is_an_error_that_names_the_prompts(
        self, project, curator, clinician, prompts
    ):
        with pytest.raises(ValidationError) as raised:
            rubric_round(project, curator, [clinician], judgments_per_item=1, prompt_ids=[prompts["rash"].pk])
        assert "rash" in raised.value.message_dict["prompts"][0]

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"mode": "pairwise"}, "choose the absolute mode"),
            ({"question": "vibes"}, "The question must be one of form, rubric (got 'vibes')"),
        ],
    )
    def test_a_question_that_cannot_be_asked_is_refused(self, project, curator, clinician, prompts, changes, message):
        with pytest.raises(ValidationError) as raised:
            rubric_round(project, curator, [clinician], judgments_per_item=1, **changes)
        assert message in raised.value.message_dict["question"][0]

    def test_freezing_names_prompts_whose_rubric_went_back_to_review(self, project, curator, clinician, prompts):
        evaluation_round = rubric_round(project, curator, [clinician], judgments_per_item=1)
        rubric = prompts["chest"].rubric
        rubric_edit(rubric_id=rubric.pk, editor=curator, expected_version=1, criteria=CRITERIA[:2], rationale="x")
        with pytest.raises(ValidationError) as raised:
            round_freeze(evaluation_round=evaluation_round)
        assert "no longer have an accepted rubric" in raised.value.messages[0] and "chest" in raised.value.messages[0]
        evaluation_round.refresh_from_db()
        assert evaluation_round.status == RoundStatus.DRAFT


class TestJudging:
    def test_a_judgment_records_the_reviewers_rubric_grade(self, clinician, open_round):
        slot = round_next_slot(evaluation_round=open_round, reviewer=clinician)
        marks = marks_for(slot, 0)
        judgment, created = judgment_submit(slot=slot, reviewer=clinician, answers={"rubric": marks})
        assert created and judgment.rubric_grade.grader == clinician
        assert judgment.rubric_grade.response == slot.left_response
        assert {str(k): v for k, v in judgment.rubric_grade.marks.values_list("criterion_id", "met")} == marks
        assert judgment.answers == {"rubric": [key for key, met in marks.items() if met]}
        # The same submission again is the same judgment and the same grade.
        again, created = judgment_submit(slot=slot, reviewer=clinician, answers={"rubric": marks})
        assert again == judgment and not created and RubricGrade.objects.count() == 1

    def test_unmarked_criteria_are_refused_by_field_and_nothing_is_kept(self, clinician, open_round):
        slot = round_next_slot(evaluation_round=open_round, reviewer=clinician)
        first = next(iter(marks_for(slot, 0)))
        with pytest.raises(AnswersInvalid) as raised:
            judgment_submit(slot=slot, reviewer=clinician, answers={"rubric": {first: True}})
        assert "criteria 2, 3, 4 have no mark" in raised.value.message_dict["rubric"][0]
        with pytest.raises(AnswersInvalid) as raised:
            judgment_submit(slot=slot, reviewer=clinician, answers={})
        assert raised.value.message_dict["rubric"] == ["is required"]
        assert not Judgment.objects.exists() and not RubricGrade.objects.exists()

    def test_marks_given_before_the_round_are_final_and_taken_by_the_judgment(self, clinician, open_round):
        slot = round_next_slot(evaluation_round=open_round, reviewer=clinician)
        marks = marks_for(slot, 0)
        grade = rubric_grade_submit(
            response=slot.left_response, grader=clinician, marks={int(k): v for k, v in marks.items()}
        )
        judgment, _ = judgment_submit(slot=slot, reviewer=clinician, answers={})
        assert judgment.rubric_grade == grade and RubricGrade.objects.count() == 1


class TestLeaderboard:
    def test_the_leaderboard_scores_each_model_on_the_majority_of_the_rounds_graders(
        self, project, clinician, second, open_round
    ):
        judge_everything(open_round, [clinician, second])
        # A grade given outside the round does not count in it.
        outsider = ClinicianFactory()
        MembershipFactory(project=project, user=outsider)
        beta_chest = open_round.items.get(prompt__external_id="chest", response_a__model_name=MODELS[1]).response_a
        criteria = rubric_criteria(version=rubric_current_version(rubric=beta_chest.prompt.rubric))
        rubric_grade_submit(response=beta_chest, grader=outsider, marks={c.pk: True for c in criteria})

        board = round_results(evaluation_round=open_round, draws=200)["rubric"]
        assert [m["model"] for m in board["models"]] == list(MODELS)
        alpha, beta = board["models"]
        assert alpha["overall"]["value"] == pytest.approx(1.0) and alpha["overall"]["n"] == 2
        assert beta["overall"]["value"] == pytest.approx(4 / 17)
        assert beta["overall"]["ci_low"] <= 4 / 17 <= beta["overall"]["ci_high"]
        assert board["axes"] == ["axis:accuracy", "axis:context_awareness"]
        # Beta meets criterion 1 (the accuracy criterion of positive points) on one prompt of two: 8/8 and 0/8.
        assert beta["by_axis"]["axis:accuracy"]["value"] == pytest.approx(0.5)
        assert beta["by_axis"]["axis:context_awareness"]["value"] == pytest.approx(0.0)
        assert board["themes"] == ["theme:cardiology", "theme:emergency"]
        assert beta["by_theme"]["theme:emergency"]["value"] == pytest.approx(8 / 17)
        assert beta["by_theme"]["theme:cardiology"]["value"] == pytest.approx(0.0)
        assert board["graded_responses"] == 4
        # The round's two graders disagree on one criterion of one response out of the 16 they both marked.
        rubric_agreement = round_results(evaluation_round=open_round, draws=20)["agreement"][-1]
        assert rubric_agreement["axis"] == "rubric" and rubric_agreement["report"]["n_units"] == 16
        assert rubric_agreement["report"]["percent_agreement"]["value"] == pytest.approx(15 / 16)

    def test_the_worker_publishes_the_leaderboard_with_the_rounds_results_as_judgments_arrive(
        self, clinician, second, open_round
    ):
        slot = round_next_slot(evaluation_round=open_round, reviewer=clinician)
        judgment_submit(slot=slot, reviewer=clinician, answers={"rubric": marks_for(slot, 0)})
        assert round_results_refresh(evaluation_round=open_round)["rubric"]["graded_responses"] == 1
        judge_everything(open_round, [clinician, second])
        assert round_results_latest(evaluation_round=open_round).result["rubric"]["graded_responses"] == 1
        assert round_results_refresh(evaluation_round=open_round)["rubric"]["graded_responses"] == 4
        assert round_results_latest(evaluation_round=open_round).result["rubric"]["graded_responses"] == 4

    def test_a_round_without_the_rubric_question_has_no_rubric_leaderboard(self, project, curator, clinician, prompts):
        evaluation_round = round_create(
            project=project,
            created_by=curator,
            name="Scales",
            mode="absolute",
            models=list(MODELS),
            reviewers=[clinician],
            judgments_per_item=1,
        )
        assert not evaluation_round.grades_rubric
        assert round_results(evaluation_round=evaluation_round, draws=20)["rubric"] is None


class TestPages:
    def test_the_setup_page_asks_the_rubric_question(self, client, project, curator, clinician, prompts):
        client.force_login(curator)
        url = reverse("round_create", args=[project.slug])
        assert "Each prompt&#x27;s physician rubric" in client.get(url).content.decode()
        form = {
            "name": "From the page",
            "models": [f"{m}::{prompts['fever'].responses.get(model_name=m).model_version}" for m in MODELS],
            "pairing": "all_pairs",
            "prompt_scope": "all",
            "seed": 1,
            "judgments_per_item": 1,
            "reviewers": [clinician.pk],
            "question": "rubric",
        }
        refused = client.post(url, {**form, "mode": "pairwise"})
        assert "choose the absolute mode" in refused.content.decode() and not EvaluationRound.objects.exists()
        assert client.post(url, {**form, "mode": "absolute"}).status_code == 302
        assert EvaluationRound.objects.get().grades_rubric

    def test_the_judging_page_shows_the_criteria_blind_and_records_the_grade(self, client, clinician, open_round):
        client.force_login(clinician)
        url = reverse("round_judge", args=[open_round.project.slug, open_round.pk])
        page = client.get(url).content.decode()
        slot = round_next_slot(evaluation_round=open_round, reviewer=clinician)
        marks = marks_for(slot, 0)
        for key in marks:
            assert f'name="a-rubric.{key}" value="1"' in page
        assert page.count('data-testid="rubric-criterion"') == 4
        assert "secret-model" not in page
        partial = client.post(url, {"slot": slot.pk, f"a-rubric.{next(iter(marks))}": "1"})
        assert partial.status_code == 400
        assert "Physician rubric must mark every criterion" in partial.content.decode()
        posted = {"slot": slot.pk, **{f"a-rubric.{k}": "1" if met else "0" for k, met in marks.items()}}
        assert client.post(url, posted).status_code == 302
        assert Judgment.objects.get().rubric_grade.grader == clinician

    def test_the_results_page_shows_the_rubric_leaderboard(self, client, curator, clinician, second, open_round):
        judge_everything(open_round, [clinician, second])
        round_results_refresh(evaluation_round=open_round)  # what the worker does once judgments arrive
        client.force_login(curator)
        page = client.get(reverse("round_results", args=[open_round.project.slug, open_round.pk])).content.decode()
        board = page.split('data-testid="rubric-leaderboard"')[1].split("</table>")[0]
        assert board.index(MODELS[0]) < board.index(MODELS[1])
        assert "1.00 [1.00, 1.00]" in board and "0.24 [" in board  # 4/17
        assert "Accuracy" in board and "Context awareness" in board
        assert "Emergency" in board and "Cardiology" in board
        csv_page = client.get(reverse("round_results_csv", args=[open_round.project.slug, open_round.pk]))
        rows = list(csv.reader(io.StringIO(csv_page.content.decode())))
        beta = {row[1]: row for row in rows if row[0] == "rubric_score" and row[2] == MODELS[1]}
        assert set(beta) == {
            "overall",
            "axis:accuracy",
            "axis:context_awareness",
            "theme:cardiology",
            "theme:emergency",
        }
        assert float(beta["overall"][5]) == pytest.approx(4 / 17) and beta["overall"][8] == "2"
        agreement = page.split('data-testid="agreement"')[1].split("</table>")[0]
        assert "Physician rubric: each criterion met or not met" in agreement


class TestApiAndCommand:
    def test_the_api_sets_up_a_rubric_round_and_names_prompts_without_a_rubric(
        self, client, project, curator, clinician, second, prompts
    ):
        client.force_login(curator)
        url = reverse("api_round_create", args=[project.slug])
        body = {
            "name": "By API",
            "mode": "absolute",
            "question": "rubric",
            "models": list(MODELS),
            "reviewers": [clinician.email, second.email],
        }
        refused = client.post(url, {**body, "prompts": ["fever", "rash"]}, content_type="application/json")
        assert refused.status_code == 400 and "rash" in refused.json()["prompts"][0]
        unknown = client.post(url, {**body, "prompts": ["nope"]}, content_type="application/json")
        assert unknown.status_code == 400 and "No prompt of this project is called nope" in unknown.json()["prompts"][0]
        made = client.post(url, {**body, "prompts": ["fever"]}, content_type="application/json")
        assert made.status_code == 201, made.json()
        assert made.json()["grades_rubric"] and made.json()["prompts"] == 1
        client.force_login(clinician)
        assert client.post(url, body, content_type="application/json").status_code == 403

    def test_a_reviewer_judges_over_the_api_with_the_criteria_it_hands_out(
        self, client, curator, clinician, second, open_round
    ):
        client.force_login(clinician)
        slug = open_round.project.slug
        nxt = client.get(reverse("api_round_next", args=[slug, open_round.pk])).json()
        assert "secret-model" not in str(nxt)
        criteria = nxt["rubric"]["criteria"]
        assert [c["points"] for c in criteria] == [8, 4, -6, 5] and nxt["rubric"]["final"] is None
        answers = {"rubric": {str(c["id"]): c["points"] > 0 for c in criteria}}
        made = client.post(
            reverse("api_round_judgment", args=[slug, open_round.pk]),
            {"slot": nxt["item"]["slot"], "answers": answers},
            content_type="application/json",
        )
        assert made.status_code == 201
        round_results_refresh(evaluation_round=open_round)
        client.force_login(curator)
        results = client.get(reverse("api_round_results", args=[slug, open_round.pk])).json()
        assert results["rubric"]["graded_responses"] == 1 and results["round"]["grades_rubric"]

    def test_the_command_sets_up_and_freezes_a_rubric_round(self, project, clinician, second, prompts):
        out = io.StringIO()
        call_command(
            "create_round",
            "--project", project.slug, "--name", "By command", "--mode", "absolute", "--question", "rubric",
            "--models", ",".join(MODELS), "--reviewers", f"{clinician.email},{second.email}", "--freeze",
            stdout=out,
        )  # fmt: skip
        assert "set up with 2 prompts" in out.getvalue() and "Frozen" in out.getvalue()
        assert EvaluationRound.objects.get().status == RoundStatus.FROZEN
        with pytest.raises(CommandError, match=r"--prompts: 1 of the chosen prompts have no accepted rubric.*rash"):
            call_command(
                "create_round",
                "--project", project.slug, "--name", "Again", "--mode", "absolute", "--question", "rubric",
                "--models", ",".join(MODELS), "--reviewers", clinician.email, "--k", "1", "--prompts", "rash,fever",
            )  # fmt: skip
