from django.urls import reverse
from django.utils import timezone

from curation.services.seed_tasks import seed_task_create
from tests.factories import ProjectFactory, SeedTaskFactory


def test_projects_list_shows_only_projects_the_clinician_belongs_to(client, project, clinician):
    ProjectFactory(slug="elsewhere")
    client.force_login(clinician)
    body = client.get(reverse("api_project_list")).json()
    assert [p["slug"] for p in body["results"]] == ["cardio"]


def test_curators_see_every_project(client, project, curator):
    ProjectFactory(slug="elsewhere")
    client.force_login(curator)
    body = client.get(reverse("api_project_list")).json()
    assert {p["slug"] for p in body["results"]} == {"cardio", "elsewhere"}


def test_the_project_list_says_which_projects_are_archived(client, project, curator):
    ProjectFactory(slug="closed", archived_at=timezone.now())
    client.force_login(curator)
    body = client.get(reverse("api_project_list")).json()
    archived = {p["slug"]: (p["archived"], p["archived_at"] is not None) for p in body["results"]}
    assert archived == {"cardio": (False, False), "closed": (True, True)}


def test_task_list_is_paginated_and_filterable(client, project, clinician):
    for difficulty in (1, 2, 2, 5):
        SeedTaskFactory(project=project, difficulty=difficulty)
    SeedTaskFactory(project=project, difficulty=2, instruction="Interpret this potassium of 6.1 mmol/L.")
    client.force_login(clinician)
    url = reverse("api_task_list", args=[project.slug])
    everything = client.get(url).json()
    assert len(everything["results"]) == 5 and everything["next"] is None
    assert len(client.get(url, {"difficulty": 2}).json()["results"]) == 3
    found = client.get(url, {"q": "potassium"}).json()
    assert [t["instruction"] for t in found["results"]] == ["Interpret this potassium of 6.1 mmol/L."]


def test_task_detail_returns_canonical_and_raw_metadata(client, project, clinician):
    task = seed_task_create(project=project, instruction="Summarise this.", task_type="Summarizations", view="patient")
    client.force_login(clinician)
    body = client.get(reverse("api_task_detail", args=[project.slug, task.pk])).json()
    assert body["task_type"] == "Summarization" and body["task_type_raw"] == "Summarizations"
    assert body["view"] == "Patient" and body["input"] == ""


def test_a_task_cannot_be_read_through_another_projects_url(client, project, clinician):
    other = ProjectFactory(slug="other")
    foreign = SeedTaskFactory(project=other)
    client.force_login(clinician)
    assert client.get(reverse("api_task_detail", args=[project.slug, foreign.pk])).status_code == 404


def test_an_invalid_filter_value_is_a_clear_400(client, project, clinician):
    client.force_login(clinician)
    response = client.get(reverse("api_task_list", args=[project.slug]), {"difficulty": 9})
    assert response.status_code == 400
    assert "difficulty" in response.json()


def test_openapi_schema_generates_and_lists_the_endpoints(client, curator):
    client.force_login(curator)
    response = client.get(reverse("api_schema"), {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/projects/{slug}/tasks/" in paths
    assert "/api/v1/me/" in paths


def test_swagger_ui_is_served_from_local_static_files(client, curator):
    client.force_login(curator)
    page = client.get(reverse("api_docs")).content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()
