from django.urls import reverse

from curation.models import Judge, Rubric, RubricGrade, RubricStatus
from curation.selectors.rubrics import rubric_criteria, rubric_current_version
from curation.services.rubrics import rubric_grade_submit, rubric_settings_of

ROW = {"text": ["Calls emergency services", "Gives a dose"], "points": ["8", "-5"], "axis": ["accuracy"] * 2}


def test_a_clinician_writes_a_rubric_and_a_second_clinician_accepts_it(client, project, prompt, clinician, reviewer):
    client.force_login(clinician)
    url = reverse("rubric_editor", kwargs={"slug": project.slug, "prompt_id": prompt.pk})
    saved = client.post(url, {**ROW, "cluster": ["", ""], "order": ["1", "0"], "submit_for_review": "1"})
    rubric = Rubric.objects.get(prompt=prompt)
    assert saved.status_code == 302 and rubric.status == RubricStatus.IN_REVIEW
    # The order column decides the order.
    assert [c.text for c in rubric_criteria(version=rubric_current_version(rubric=rubric))] == ROW["text"][::-1]
    review = reverse("rubric_review", kwargs={"slug": project.slug, "rubric_id": rubric.pk})
    assert b"accept-rubric" not in client.get(review).content  # not for the author
    client.force_login(reviewer)
    assert b"accept-rubric" in client.get(review).content
    client.post(reverse("rubric_accept", kwargs={"slug": project.slug, "rubric_id": rubric.pk}))
    rubric.refresh_from_db()
    assert rubric.status == RubricStatus.ACCEPTED and rubric.reviewed_by == reviewer


def test_the_editor_names_a_bad_criterion_and_keeps_what_was_typed(client, project, prompt, clinician):
    client.force_login(clinician)
    url = reverse("rubric_editor", kwargs={"slug": project.slug, "prompt_id": prompt.pk})
    page = client.post(url, {"text": ["Calls for help"], "points": ["12"], "axis": ["accuracy"], "cluster": [""]})
    assert page.status_code == 400
    assert "criterion 1: Points must be between -10 and 10" in page.content.decode()
    assert "Calls for help" in page.content.decode() and not Rubric.objects.exists()


def test_the_grading_page_is_blind_and_hides_points_when_the_project_says_so(
    client, project, accepted_rubric, responses, clinician, reviewer
):
    criteria = rubric_criteria(version=rubric_current_version(rubric=accepted_rubric))
    rubric_grade_submit(response=responses["model-a"], grader=reviewer, marks={c.pk: True for c in criteria})
    client.force_login(clinician)
    url = reverse("rubric_grade", kwargs={"slug": project.slug, "response_id": responses["model-a"].pk})
    page = client.get(url).content.decode()
    assert "model-a" not in page and "checked" not in page
    assert 'data-testid="points"' in page
    settings = rubric_settings_of(project=project)
    settings.show_points_to_graders = False
    settings.save(update_fields=["show_points_to_graders"])
    assert 'data-testid="points"' not in client.get(url).content.decode()


def test_grading_on_the_page_needs_every_mark_then_moves_on(client, project, accepted_rubric, responses, clinician):
    criteria = rubric_criteria(version=rubric_current_version(rubric=accepted_rubric))
    client.force_login(clinician)
    url = reverse("rubric_grade", kwargs={"slug": project.slug, "response_id": responses["model-a"].pk})
    partial = client.post(url, {f"mark-{criteria[0].pk}": "1"})
    assert partial.status_code == 400 and "have no mark" in partial.content.decode()
    done = client.post(url, {f"mark-{c.pk}": "1" if c.points > 0 else "0" for c in criteria})
    assert done.status_code == 302 and done["Location"] == reverse("rubric_grade_next", kwargs={"slug": project.slug})
    assert RubricGrade.objects.get(grader=clinician).marks.filter(met=True).count() == 3
    nxt = client.get(done["Location"])
    assert nxt["Location"].endswith(f"/grade/{responses['model-b'].pk}/")


def test_a_clinician_not_a_member_gets_404_everywhere(client, project, accepted_rubric, responses, outsider):
    client.force_login(outsider)
    for url in (
        reverse("rubric_list", kwargs={"slug": project.slug}),
        reverse("rubric_review", kwargs={"slug": project.slug, "rubric_id": accepted_rubric.pk}),
        reverse("rubric_grade", kwargs={"slug": project.slug, "response_id": responses["model-a"].pk}),
        reverse("rubric_results", kwargs={"slug": project.slug}),
    ):
        assert client.get(url).status_code == 404, url


def test_results_show_the_leaderboard_and_each_judges_panel_to_curators(
    client, project, accepted_rubric, responses, clinician, reviewer, curator
):
    criteria = rubric_criteria(version=rubric_current_version(rubric=accepted_rubric))
    for grader in (clinician, reviewer):
        for response in responses.values():
            rubric_grade_submit(response=response, grader=grader, marks={c.pk: c.order < 2 for c in criteria})
    client.force_login(clinician)
    assert client.get(reverse("rubric_results", kwargs={"slug": project.slug})).status_code == 403
    client.force_login(curator)
    url = reverse("api_judge_verdicts", kwargs={"slug": project.slug})
    verdicts = [
        {"prompt_id": "chest-pain", "model": m, "criterion_index": i, "judge": "llm", "met": True}
        for m in responses
        for i in range(4)
    ]
    assert client.post(url, {"verdicts": verdicts}, content_type="application/json").status_code == 201
    page = client.get(reverse("rubric_results", kwargs={"slug": project.slug})).content.decode()
    assert "model-a" in page and "axis:accuracy" in page
    assert f"Judge {Judge.objects.get()}" in page and 'data-testid="ceiling"' in page
