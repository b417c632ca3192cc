"""Pairwise judges: their votes are imported beside clinicians' round votes, never among them, and read
against them (agreement, kappa) with the judge's position and length biases beside the clinicians'."""

import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from curation.models.rubrics import JudgeVote
from curation.selectors.judges import pairwise_judge_panel
from curation.selectors.round_judging import round_next_slot
from curation.selectors.round_results import round_results, round_votes
from curation.services.judges import judge_verdicts_import_text
from curation.services.round_judging import judgment_submit
from curation.services.round_schedules import round_freeze
from curation.services.rounds import round_create
from curation.stats.judges import pairwise_agreement, swap_flip_rate
from tests.factories import ClinicianFactory, MembershipFactory, ModelResponseFactory, PromptFactory

LONG, SHORT = "long-model", "short-model"
# (prompt, shown first, shown second, verdict, verdict with the two swapped or None)
JUDGE_ROWS = [
    ("p1", LONG, SHORT, "a", "b"),  # picks the long answer in both orders
    ("p2", LONG, SHORT, "a", None),
    ("p3", SHORT, LONG, "b", None),
    ("p4", SHORT, LONG, "a", "a"),  # always the first answer: flips with the swap
]


@pytest.fixture
def pairs(project):
    prompts = {}
    for n in range(1, 5):
        prompt = PromptFactory(project=project, external_id=f"p{n}")
        ModelResponseFactory(prompt=prompt, seed_task=None, model_name=LONG, text="Call 999 now. " * 10)
        ModelResponseFactory(prompt=prompt, seed_task=None, model_name=SHORT, text="Rest.")
        prompts[prompt.external_id] = prompt
    return prompts


@pytest.fixture
def judged_round(project, curator, clinician, pairs):
    """Two clinicians judge every pair: both pick the long answer, except one tie on p3."""
    other = ClinicianFactory()
    MembershipFactory(project=project, user=other)
    evaluation_round = round_create(
        project=project,
        created_by=curator,
        name="Round 1",
        mode="pairwise",
        models=[LONG, SHORT],
        reviewers=[clinician, other],
        judgments_per_item=2,
    )
    evaluation_round = round_freeze(evaluation_round=evaluation_round)
    for reviewer in (clinician, other):
        while (slot := round_next_slot(evaluation_round=evaluation_round, reviewer=reviewer)) is not None:
            verdict = "a" if slot.left_response.model_name == LONG else "b"
            if reviewer == other and slot.item.prompt.external_id == "p3":
                verdict = "tie"
            answers = {key: verdict for key in ("overall", "correctness", "helpfulness")} | {"harm": "tie"}
            judgment_submit(slot=slot, reviewer=reviewer, answers=answers)
    return evaluation_round


def jsonl(rows=JUDGE_ROWS) -> str:
    lines = []
    for prompt, first, second, verdict, swapped in rows:
        row = {"prompt_id": prompt, "model_a": first, "model_b": second, "judge": "pair-llm", "judge_version": "1"}
        row |= {"verdict": verdict} | ({"swapped_verdict": swapped} if swapped else {})
        lines.append(json.dumps(row))
    return "\n".join(lines) + "\n"


def test_a_row_with_a_swapped_verdict_is_two_votes_in_the_order_each_was_shown(project, pairs):
    assert judge_verdicts_import_text(project=project, text=jsonl()) == 6
    p4 = JudgeVote.objects.filter(prompt=pairs["p4"]).select_related("first")
    assert sorted((v.first.model_name, v.verdict) for v in p4) == [(LONG, "a"), (SHORT, "a")]


def test_a_vote_given_again_in_the_same_order_replaces_the_first(project, pairs):
    judge_verdicts_import_text(project=project, text=jsonl([("p2", LONG, SHORT, "a", None)]))
    judge_verdicts_import_text(project=project, text=jsonl([("p2", LONG, SHORT, "tie", None)]))
    assert list(JudgeVote.objects.values_list("verdict", flat=True)) == ["tie"]


def test_csv_votes_name_answers_by_response_id_and_round_item(project, judged_round):
    item = judged_round.items.select_related("response_a", "response_b").first()
    text = (
        "item,response_a,response_b,judge,judge_version,verdict\n"
        f"{item.pk},{item.response_b_id},{item.response_a_id},pair-llm,1,B\n"
    )
    assert judge_verdicts_import_text(project=project, text=text, name="votes.csv") == 1
    vote = JudgeVote.objects.get()
    assert (vote.first_id, vote.second_id, vote.verdict) == (item.response_b_id, item.response_a_id, "b")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            '{"prompt_id": "p1", "model_a": "long-model", "model_b": "short-model", "judge": "j", "verdict": "left"}',
            "line 2, verdict: 'left' is not a, b or tie",
        ),
        (
            '{"prompt_id": "nope", "model_a": "long-model", "model_b": "short-model", "judge": "j", "verdict": "a"}',
            "line 2: no prompt 'nope' in this project",
        ),
        (
            '{"prompt_id": "p1", "model_a": "long-model", "model_b": "gpt-x", "judge": "j", "verdict": "a"}',
            "line 2: model 'gpt-x' has no response to prompt 'p1'",
        ),
        (
            '{"prompt_id": "p1", "model_a": "long-model", "judge": "j", "verdict": "tie"}',
            "line 2: name answer b by response_b or model_b",
        ),
        (
            '{"item": 999999, "model_a": "long-model", "model_b": "short-model", "judge": "j", "verdict": "a"}',
            "line 2: no pairwise round item 999999 in this project",
        ),
    ],
)
def test_a_bad_vote_names_its_line_and_nothing_is_imported(project, pairs, line, message):
    text = jsonl([("p1", LONG, SHORT, "a", None)]) + line + "\n"
    with pytest.raises(ValidationError) as caught:
        judge_verdicts_import_text(project=project, text=text)
    assert message in " ".join(caught.value.messages)
    assert not JudgeVote.objects.exists()


def test_judge_votes_never_count_in_the_rounds_results(project, judged_round):
    before = round_votes(evaluation_round=judged_round, axis="overall")
    results_before = round_results(evaluation_round=judged_round, draws=50)
    judge_verdicts_import_text(project=project, text=jsonl([(p, SHORT, LONG, "a", "b") for p in ("p1", "p2")]))
    assert round_votes(evaluation_round=judged_round, axis="overall") == before
    assert judged_round.judgments.count() == 8
    assert round_results(evaluation_round=judged_round, draws=50)["axes"] == results_before["axes"]


def test_panel_agreement_kappa_flip_rate_and_length_shares_match_the_hand_count(project, judged_round):
    judge_verdicts_import_text(project=project, text=jsonl())
    judge = JudgeVote.objects.first().judge
    panel = pairwise_judge_panel(project=project, judge=judge, draws=200)
    # Clinicians' votes per pair (L = long wins, T = tie): p1 LL, p2 LL, p3 LT, p4 LL; the judge's: p1 LL,
    # p2 L, p3 L, p4 SL. Every clinician vote against every judge vote on the same pair: 12 pairs, 9 agree.
    assert panel.agreement.n_pairs == 12
    assert panel.agreement.percent_agreement.value == pytest.approx(9 / 12)
    # Clinicians: L 11, T 1; judge: L 10, S 2. p_e = (11/12)(10/12); kappa = (0.75 - p_e) / (1 - p_e) = -1/17.
    assert panel.agreement.cohen_kappa.value == pytest.approx(-1 / 17)
    kappa = panel.agreement.cohen_kappa
    assert kappa.ci_low <= kappa.value <= kappa.ci_high
    # Judged in both orders: p1 (follows the swap) and p4 (does not).
    assert panel.flip_rate.value == pytest.approx(0.5)
    assert panel.flip_rate.n == 2
    # The judge's six votes: five for the longer answer; four for the answer shown first.
    assert panel.judge_longer["longer_win_rate"] == pytest.approx(5 / 6)
    assert panel.judge_first["left_win_share"] == pytest.approx(4 / 6)
    # Clinicians: 8 votes, 7 for the longer answer and a tie counted as half.
    assert panel.clinicians_votes == 8
    assert panel.clinicians_longer["longer_win_rate"] == pytest.approx(7.5 / 8)


def test_kappa_is_undefined_when_both_sides_only_ever_say_the_same():
    result = pairwise_agreement([(["a", "a"], ["a"]), (["a"], ["a"])], draws=50)
    assert result.percent_agreement.value == 1.0
    assert result.cohen_kappa.value is None
    with pytest.raises(ValueError, match="'left' is not one of a, b, tie"):
        pairwise_agreement([(["left"], ["a"])])


def test_a_judge_that_always_picks_the_first_answer_flips_on_every_swap():
    assert swap_flip_rate([("a", "b"), ("b", "a")], draws=50).value == 1.0
    assert swap_flip_rate([("a", "a"), ("tie", "tie")], draws=50).value == 0.0
    assert swap_flip_rate([]).value is None


def test_judge_agreement_command_prints_the_pairwise_panel(project, judged_round):
    judge_verdicts_import_text(project=project, text=jsonl())
    out = " ".join(_call("judge_agreement", "--project", project.slug, "--judge", "pair-llm", "--draws", "50").split())
    assert "pairwise (overall): 6 judge votes, 12 (clinician, judge) vote pairs on 4 answer pairs" in out
    assert "agreement 0.75 [" in out
    assert "Cohen kappa -0.06 [" in out
    assert "position-swap flip rate 0.50 [" in out
    assert "longer answer judge 0.83 [" in out and "clinicians 0.94 [" in out


def test_api_takes_pairwise_votes_and_gives_the_panel(client, project, curator, judged_round):
    client.force_login(curator)
    votes = [json.loads(line) for line in jsonl().splitlines()]
    url = reverse("api_judge_verdicts", args=[project.slug])
    response = client.post(url, {"verdicts": votes}, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json() == {"imported": 6}
    judge = JudgeVote.objects.first().judge
    panel = client.get(reverse("api_judge_panel", args=[project.slug, judge.pk]), {"draws": 50}).json()
    assert panel["pairwise"]["agreement"]["percent_agreement"]["value"] == pytest.approx(0.75)
    assert panel["pairwise"]["flip_rate"]["value"] == pytest.approx(0.5)
    assert panel["pairwise"]["judge_longer"]["longer_win_rate"] == pytest.approx(5 / 6)
    assert panel["rubric"] == []


def test_results_page_shows_the_pairwise_panel_beside_the_clinicians_rates(client, project, curator, judged_round):
    judge_verdicts_import_text(project=project, text=jsonl())
    client.force_login(curator)
    page = client.get(reverse("rubric_results", args=[project.slug])).content.decode()
    assert 'data-testid="pairwise-panel"' in page
    assert "0.75" in page and "0.50" in page and "0.83" in page and "0.94" in page


def _call(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def _refusal(*args) -> str:
    out = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("judge_agreement", *args, stdout=out)
    assert out.getvalue() == ""
    return str(refused.value)


@pytest.mark.parametrize("draws", ["0", "-5"])
def test_judge_agreement_refuses_fewer_than_one_bootstrap_draw(project, judged_round, draws):
    judge_verdicts_import_text(project=project, text=jsonl())
    message = _refusal("--project", project.slug, "--judge", "pair-llm", "--draws", draws)
    assert message == "--draws must be at least 1"


def test_judge_agreement_says_the_judge_has_no_such_version_and_lists_its_versions(project, pairs):
    judge_verdicts_import_text(project=project, text=jsonl())
    message = _refusal("--project", project.slug, "--judge", "pair-llm", "--judge-version", "9")
    assert message == f"judge 'pair-llm' has no version '9' in {project.slug} (its versions: '1')"


def test_judge_agreement_asks_which_version_when_a_judge_has_several(project, pairs):
    judge_verdicts_import_text(project=project, text=jsonl())
    judge_verdicts_import_text(project=project, text=jsonl().replace('"judge_version": "1"', '"judge_version": "2"'))
    message = _refusal("--project", project.slug, "--judge", "pair-llm")
    assert message == (
        f"judge 'pair-llm' has several versions in {project.slug} ('1', '2'); pick one with --judge-version"
    )


def test_judge_agreement_refuses_an_axis_no_pairwise_round_asks_naming_the_ones_asked(project, judged_round):
    judge_verdicts_import_text(project=project, text=jsonl())
    message = _refusal("--project", project.slug, "--judge", "pair-llm", "--draws", "50", "--axis", "nosuchaxis")
    assert message == (
        f"--axis: no pairwise round of {project.slug} asks 'nosuchaxis'; "
        "the axes are overall, correctness, helpfulness, harm."
    )
    out = _call("judge_agreement", "--project", project.slug, "--judge", "pair-llm", "--draws", "50", "--axis", "harm")
    assert "pairwise (harm): 6 judge votes, 12 (clinician, judge) vote pairs" in " ".join(out.split())


def test_without_pairwise_rounds_the_panel_keeps_the_judges_own_figures_and_refuses_a_named_axis(project, pairs):
    judge_verdicts_import_text(project=project, text=jsonl())
    judge = JudgeVote.objects.first().judge
    panel = pairwise_judge_panel(project=project, judge=judge, draws=50)
    assert (panel.axis, panel.agreement.n_pairs, panel.flip_rate.n) == ("overall", 0, 2)
    with pytest.raises(ValidationError) as refused:
        pairwise_judge_panel(project=project, judge=judge, axis="overall", draws=50)
    assert refused.value.message_dict == {
        "axis": [f"no pairwise round of {project.slug} asks 'overall'; {project.slug} has no pairwise rounds."]
    }


def test_api_refuses_an_axis_no_pairwise_round_asks(client, project, curator, judged_round):
    judge_verdicts_import_text(project=project, text=jsonl())
    judge = JudgeVote.objects.first().judge
    client.force_login(curator)
    url = reverse("api_judge_panel", args=[project.slug, judge.pk])
    refused = client.get(url, {"draws": 50, "axis": "nosuchaxis"})
    assert refused.status_code == 400
    assert refused.json() == {
        "axis": [
            f"no pairwise round of {project.slug} asks 'nosuchaxis'; "
            "the axes are overall, correctness, helpfulness, harm."
        ]
    }
    assert client.get(url, {"draws": 50, "axis": "harm"}).json()["pairwise"]["axis"] == "harm"
