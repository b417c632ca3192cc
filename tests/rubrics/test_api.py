from django.urls import reverse

from curation.models import RubricGrade
from curation.selectors.rubrics import rubric_criteria, rubric_current_version


def test_grading_through_the_api_is_blind_and_final(accepted_rubric, responses, client, clinician, reviewer):
    response = responses["model-a"]
    url = reverse("api_rubric_grade", kwargs={"slug": accepted_rubric.project.slug, "response_id": response.pk})
    criteria = rubric_criteria(version=rubric_current_version(rubric=accepted_rubric))
    client.force_login(reviewer)
    assert (
        client.post(url, {"marks": {str(c.pk): True for c in criteria}}, content_type="application/json").status_code
        == 201
    )
    client.force_login(clinician)
    shown = client.get(url)
    assert shown.status_code == 200
    assert "model-a" not in shown.content.decode() and "met" not in shown.json()["criteria"][0]
    assert [c["id"] for c in shown.json()["criteria"]] == [c.pk for c in criteria]
    incomplete = client.post(url, {"marks": {str(criteria[0].pk): True}}, content_type="application/json")
    assert incomplete.status_code == 400 and "have no mark" in str(incomplete.json())
    done = client.post(url, {"marks": {str(c.pk): False for c in criteria}}, content_type="application/json")
    assert done.status_code == 201
    again = client.post(url, {"marks": {str(c.pk): True for c in criteria}}, content_type="application/json")
    assert again.status_code == 400 and "grades are final" in str(again.json())
    assert RubricGrade.objects.get(grader=clinician).marks.filter(met=True).count() == 0


def test_an_outsider_cannot_grade(accepted_rubric, responses, client, outsider):
    url = reverse(
        "api_rubric_grade", kwargs={"slug": accepted_rubric.project.slug, "response_id": responses["model-a"].pk}
    )
    client.force_login(outsider)
    assert client.get(url).status_code == 404
