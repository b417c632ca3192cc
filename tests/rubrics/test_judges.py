import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from curation.models import Judge, RubricGrade
from curation.selectors.judges import judge_panel
from curation.selectors.rubrics import criterion_agreement, rubric_criteria, rubric_current_version, rubric_leaderboard
from curation.services.rubrics import rubric_grade_submit
from curation.stats.judges import judge_agreement, score_gap
from curation.stats.rubrics import MetaEvalRow

# Clinicians' marks per model (criteria 1..4), and the judge's.
CLINICIAN = {"model-a": (True, True, False, False), "model-b": (True, False, False, True)}
REVIEWER = {"model-a": (True, True, False, True), "model-b": (True, False, False, True)}
JUDGE = {"model-a": (True, True, True, True), "model-b": (True, True, False, True)}


@pytest.fixture
def graded(accepted_rubric, responses, clinician, reviewer):
    criteria = rubric_criteria(version=rubric_current_version(rubric=accepted_rubric))
    for grader, table in ((clinician, CLINICIAN), (reviewer, REVIEWER)):
        for model, met in table.items():
            marks = {c.pk: m for c, m in zip(criteria, met, strict=True)}
            rubric_grade_submit(response=responses[model], grader=grader, marks=marks)
    return accepted_rubric


def _csv(tmp_path):
    lines = ["prompt_id,model,criterion_index,judge,judge_version,met"]
    for model, met in JUDGE.items():
        lines += [f"chest-pain,{model},{i},grader-llm,2025-05,{'yes' if m else 'no'}" for i, m in enumerate(met)]
    path = tmp_path / "verdicts.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_judge_intervals_bracket_the_value_and_the_ceiling_is_the_clinicians_leave_one_out():
    rows = [
        MetaEvalRow((), (), "c", "x", (True, True), ("p", "q")),
        MetaEvalRow((), (), "c", "x", (False, False), ("p", "q")),
        MetaEvalRow((), (), "c", "x", (True, False), ("p", "q")),
        MetaEvalRow((), (), "c", "x", (False, False), ("p", "q")),
    ]
    result = judge_agreement(rows, [True, False, True, True], draws=200)
    # Pairs (clinician, judge): TT TT FF FF TT FT FT FT -> 4 of 8 agree... plus FF: 5 agree.
    assert result.agreement.grader.percent_agreement == pytest.approx(5 / 8)
    pa = result.intervals["percent_agreement"]
    assert pa.ci_low <= pa.value <= pa.ci_high
    # p and q agree on 3 of 4 rows, each seen from both sides.
    assert result.agreement.physician_percent_agreement.median == pytest.approx(0.75)


def test_score_gap_is_judge_minus_clinicians_with_an_interval():
    gap = score_gap([0.8, 0.6, 1.0], [0.5, 0.6, 0.7], draws=200)
    assert gap.value == pytest.approx(0.2)
    assert gap.ci_low <= 0.2 <= gap.ci_high
    with pytest.raises(ValueError, match="3 judge scores for 2"):
        score_gap([1, 1, 1], [1, 1])


def test_verdicts_imported_from_csv_are_the_judges_and_never_the_clinicians(graded, tmp_path, project):
    before_board = rubric_leaderboard(project=project, draws=20)
    before_agreement = criterion_agreement(project=project, draws=20)
    call_command("import_judge_verdicts", str(_csv(tmp_path)), "--project", project.slug)
    judge = Judge.objects.get(name="grader-llm", version="2025-05")
    assert RubricGrade.objects.filter(judge=judge).count() == 2
    assert rubric_leaderboard(project=project, draws=20) == before_board
    assert criterion_agreement(project=project, draws=20) == before_agreement
    judge_board = rubric_leaderboard(project=project, source=judge, draws=20)
    assert {s.model: s.overall.value for s in judge_board} == {"model-a": pytest.approx(11 / 17), "model-b": 1.0}


def test_judge_panel_compares_with_the_clinicians_majority(graded, tmp_path, project):
    call_command("import_judge_verdicts", str(_csv(tmp_path)), "--project", project.slug)
    panel = {row.group: row for row in judge_panel(project=project, judge=Judge.objects.get(), draws=50)}
    overall = panel["overall"]
    # 8 criteria x 2 clinicians = 16 pairs; the judge disagrees with 5 of them.
    assert overall.agreement.agreement.grader.n_pairs == 16
    assert overall.agreement.agreement.grader.percent_agreement == pytest.approx(11 / 16)
    # Majority (tie = not met): model-a 12/17, model-b (8+5)/17; judge: 11/17 and 17/17.
    assert overall.gap.value == pytest.approx(((11 - 12) + (17 - 13)) / 17 / 2)
    assert {"axis:accuracy", "axis:context_awareness"} <= set(panel)


def test_judge_agreement_command_prints_each_figure_beside_the_clinicians_ceiling(graded, tmp_path, project, capsys):
    call_command("import_judge_verdicts", str(_csv(tmp_path)), "--project", project.slug)
    call_command("judge_agreement", "--project", project.slug, "--judge", "grader-llm", "--draws", "50")
    out = capsys.readouterr().out
    assert "balanced F1" in out and "Cohen kappa" in out and "score gap" in out
    assert "clinicians  0.75" in out  # the two clinicians agree on 6 of 8 criteria


def test_a_verdict_naming_a_missing_criterion_is_refused_with_its_line(graded, tmp_path, project):
    path = tmp_path / "v.jsonl"
    path.write_text(
        '{"prompt_id": "chest-pain", "model": "model-a", "criterion_index": 9, "judge": "j", "met": true}\n'
    )
    with pytest.raises(CommandError, match="line 1: criterion_index 9 but prompt 'chest-pain' has 4 criteria"):
        call_command("import_judge_verdicts", str(path), "--project", project.slug)
    assert not Judge.objects.exists()


def test_verdicts_through_the_api_are_for_curators(graded, client, clinician, curator, project):
    url = reverse("api_judge_verdicts", kwargs={"slug": project.slug})
    body = {
        "verdicts": [{"prompt_id": "chest-pain", "model": "model-a", "criterion_index": 0, "judge": "j", "met": True}]
    }
    client.force_login(clinician)
    assert client.post(url, body, content_type="application/json").status_code == 403
    client.force_login(curator)
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 201 and response.json() == {"imported": 1}
    bad = client.post(url, {"verdicts": [{**body["verdicts"][0], "model": "nobody"}]}, content_type="application/json")
    assert bad.status_code == 400 and "model 'nobody' has no response" in str(bad.json())
