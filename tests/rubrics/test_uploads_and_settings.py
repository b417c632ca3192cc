"""Curators upload HealthBench files and judge verdicts on the rubric pages (all or nothing, problems
named by line) and choose whether graders see the criteria's points."""

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from curation.models import Judge, Rubric, RubricGrade
from curation.models.rubrics import JudgeVote
from curation.services.rubric_imports import rubric_file_kind
from curation.services.rubrics import rubric_settings_of, rubric_settings_update
from tests.rubrics import healthbench_rows


def _upload(client, project, name: str, text: str):
    url = reverse("rubric_upload", args=[project.slug])
    return client.post(url, {"file": SimpleUploadedFile(name, text.encode("utf-8"))})


def _jsonl(rows) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


@pytest.mark.parametrize(
    ("name", "first_line", "kind"),
    [
        ("v.csv", "prompt_id,model,criterion_index,judge,met", "verdicts"),
        ("v.txt", "prompt_id,model,criterion_index,judge,met", "verdicts"),
        ("v.jsonl", '{"prompt_id": "p", "judge": "j", "verdict": "a"}', "verdicts"),
        ("hb.jsonl", '{"prompt_id": "p", "rubrics": []}', "healthbench"),
        ("hb.jsonl", "{not json", "healthbench"),
    ],
)
def test_a_file_is_read_by_its_shape(name, first_line, kind):
    assert rubric_file_kind(text="\n" + first_line + "\n", name=name) == kind


def test_a_curator_uploads_a_healthbench_file_on_the_rubric_pages(client, project, curator):
    client.force_login(curator)
    assert client.get(reverse("rubric_upload", args=[project.slug])).status_code == 200
    response = _upload(client, project, "healthbench.jsonl", _jsonl(healthbench_rows.rubric_rows()))
    assert response.status_code == 302
    assert Rubric.objects.filter(project=project, status="accepted").count() == 10
    followed = client.get(response["Location"]).content.decode()
    assert "Imported 10 rubrics and 0 physician labels." in followed


def test_a_bad_row_names_its_line_and_nothing_is_imported(client, project, curator):
    client.force_login(curator)
    rows = healthbench_rows.rubric_rows()[:3]
    rows[2]["rubrics"][0]["points"] = 11
    response = _upload(client, project, "healthbench.jsonl", _jsonl(rows))
    assert response.status_code == 400
    page = response.content.decode()
    assert (
        "healthbench.jsonl: line 3 (prompt_id &#x27;hb-002&#x27;), rubrics[0].points: 11 is outside [-10, 10]" in page
    )
    assert "Nothing was imported." in page
    assert not Rubric.objects.exists()


def test_a_judges_verdicts_upload_on_the_same_page_all_or_nothing(client, project, curator, accepted_rubric, responses):
    client.force_login(curator)
    good = "prompt_id,model,criterion_index,judge,judge_version,met\nchest-pain,model-a,0,grader-llm,1,yes\n"
    response = _upload(client, project, "verdicts.csv", good + "chest-pain,model-a,9,grader-llm,1,no\n")
    assert response.status_code == 400
    assert "verdicts.csv: line 3: criterion_index 9 but prompt &#x27;chest-pain&#x27; has 4 criteria" in (
        response.content.decode()
    )
    assert not Judge.objects.exists() and not RubricGrade.objects.exists()
    assert _upload(client, project, "verdicts.csv", good).status_code == 302
    assert RubricGrade.objects.get().judge.name == "grader-llm"


def test_pairwise_votes_upload_on_the_same_page(client, project, curator, responses):
    client.force_login(curator)
    row = {"prompt_id": "chest-pain", "model_a": "model-a", "model_b": "model-b", "judge": "pair-llm"}
    response = _upload(client, project, "votes.jsonl", _jsonl([row | {"verdict": "b", "swapped_verdict": "a"}]))
    assert response.status_code == 302
    assert JudgeVote.objects.count() == 2


def test_a_clinician_cannot_upload(client, project, clinician):
    client.force_login(clinician)
    assert client.get(reverse("rubric_upload", args=[project.slug])).status_code == 403


def test_a_file_that_is_not_utf8_is_refused_before_reading_rows(client, project, curator):
    client.force_login(curator)
    url = reverse("rubric_upload", args=[project.slug])
    response = client.post(url, {"file": SimpleUploadedFile("hb.jsonl", b"\xff\xfe{}")})
    assert response.status_code == 400
    assert "The file is not UTF-8 text (byte 0)." in response.content.decode()


def test_a_curator_hides_points_from_graders(client, project, curator, clinician, accepted_rubric, responses):
    url = reverse("rubric_settings", args=[project.slug])
    grade_url = reverse("rubric_grade", args=[project.slug, responses["model-a"].pk])
    client.force_login(clinician)
    assert 'data-testid="points"' in client.get(grade_url).content.decode()
    client.force_login(curator)
    assert "checked" in client.get(url).content.decode()
    assert client.post(url, {}).status_code == 302  # the box left unticked
    assert rubric_settings_of(project=project).show_points_to_graders is False
    client.force_login(clinician)
    assert 'data-testid="points"' not in client.get(grade_url).content.decode()
    client.force_login(curator)
    client.post(url, {"show_points_to_graders": "on"})
    assert rubric_settings_of(project=project).show_points_to_graders is True


def test_only_curators_change_the_points_setting(client, project, clinician):
    with pytest.raises(PermissionDenied):
        rubric_settings_update(project=project, changed_by=clinician, show_points_to_graders=False)
    client.force_login(clinician)
    assert client.post(reverse("rubric_settings", args=[project.slug]), {}).status_code == 403
    assert rubric_settings_of(project=project).show_points_to_graders is True
