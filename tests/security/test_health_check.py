from django.urls import reverse


def test_health_check_answers_over_plain_http_under_production_settings(client, production_settings):
    response = client.get(reverse("healthz"))

    assert response.status_code == 200 and response.content == b"ok"


def test_other_pages_still_redirect_to_https_under_production_settings(client, production_settings):
    response = client.get(reverse("account_login"))

    assert response.status_code == 301 and response["Location"].startswith("https://")
