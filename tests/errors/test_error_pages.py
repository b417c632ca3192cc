"""Error pages keep the app's layout and offer a way back; under /api/ they are JSON."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from config.errors import server_error


@pytest.fixture
def member_client(client, clinician):
    client.force_login(clinician)
    return client


def test_a_refused_page_is_the_apps_layout_with_a_way_back(member_client, project):
    response = member_client.get(reverse("project_agreement", args=[project.slug]))

    assert response.status_code == 403
    html = response.content.decode()
    assert "You cannot open this page" in html
    assert f'href="{reverse("dashboard")}"' in html and "Back to the dashboard" in html
    assert 'class="site-header"' in html


def test_an_unknown_page_is_the_apps_layout_with_a_way_back(member_client):
    response = member_client.get("/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "There is nothing here" in html and "Back to the dashboard" in html


@pytest.mark.parametrize(
    "path", ["/api/v1/no-such-endpoint/", "/api/v1/projects/cardio/tasks/not-a-number/", "/api/nothing"]
)
def test_an_unknown_api_path_answers_json_not_html(member_client, project, path):
    response = member_client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_the_server_error_page_renders_without_the_request_context():
    request = RequestFactory().get("/projects/cardio/")

    response = server_error(request)

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
    assert server_error(RequestFactory().get("/api/v1/me/")).content == b'{"detail": "Server error."}'


def test_every_page_names_the_favicon_and_the_old_address_leads_to_it(member_client):
    html = member_client.get(reverse("dashboard")).content.decode()
    assert 'rel="icon"' in html and "concord/favicon.svg" in html

    response = member_client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"].endswith("concord/favicon.svg")
