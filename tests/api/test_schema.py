"""The published schema is clean, and the API keeps the promises it makes there."""

import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import SeedTaskFactory


def test_the_schema_generates_without_a_warning():
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_a_task_without_vocabulary_says_null_as_its_schema_allows(client, project, curator):
    task = SeedTaskFactory(project=project, topic=None, view=None, task_type=None)
    client.force_login(curator)
    body = client.get(reverse("api_task_detail", args=[project.slug, task.pk])).json()
    assert (body["topic"], body["view"], body["task_type"]) == (None, None, None)


@pytest.mark.parametrize("value", ["True", "yes", "2", ""])
def test_a_boolean_query_parameter_other_than_true_or_false_is_refused_by_name(client, project, curator, value):
    client.force_login(curator)
    refused = client.get(reverse("api_disagreement_list", args=[project.slug]), {"settled": value})
    assert refused.status_code == 400
    assert refused.json() == {"settled": [f"{value!r} is not a boolean; send true or false."]}


@pytest.mark.parametrize("value", ["true", "false", "1", "0"])
def test_a_boolean_query_parameter_reads_true_and_false(client, project, curator, value):
    from curation.services.disagreements import disagreements_refresh

    disagreements_refresh(project=project)
    client.force_login(curator)
    assert client.get(reverse("api_disagreement_list", args=[project.slug]), {"settled": value}).status_code == 200


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data; boundary=BoUnDaRy", "application/x-www-form-urlencoded"]
)
def test_a_release_definition_in_a_form_body_is_refused_not_built_over_the_defaults(
    client, project, admin_user, content_type
):
    client.force_login(admin_user)
    url = reverse("api_release_list", args=[project.slug])
    refused = client.post(url, "format=alpaca&filters=difficulties", content_type=content_type)
    assert refused.status_code == 415
    assert content_type.split(";")[0] in refused.json()["detail"]
    assert client.get(url).json() == []


def test_endpoints_with_nested_bodies_document_json_only(client, admin_user):
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for path in ("releases/", "adjudications/", "assignments/", "reviews/", "judge-verdicts/"):
        body = paths[f"/api/v1/projects/{{slug}}/{path}"]["post"]["requestBody"]
        assert list(body["content"]) == ["application/json"], path


def test_a_non_integer_id_in_an_api_path_is_a_json_404(client, project, curator):
    client.force_login(curator)
    response = client.get(f"/api/v1/projects/{project.slug}/tasks/abc/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json" and response.json() == {"detail": "Not found."}


def test_every_operation_documents_its_authentication_and_not_found_answers():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for path, methods in paths.items():
        for method, operation in methods.items():
            expected = {"401", "403"} | ({"404"} if "{" in path else set())
            assert expected <= set(operation["responses"]), f"{method.upper()} {path}"
            assert all("content" in operation["responses"][code] for code in expected), f"{method.upper()} {path}"
