import re
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


@pytest.mark.django_db
def test_password_reset_for_an_unknown_address_sends_no_mail(client):
    response = client.post(reverse("account_reset_password"), {"email": "stranger@example.com"})

    assert response.status_code == 302
    assert mail.outbox == []


def test_password_reset_for_a_known_address_sends_the_link(client, clinician):
    client.post(reverse("account_reset_password"), {"email": clinician.email})

    assert [message.to for message in mail.outbox] == [[clinician.email]]


def test_compose_requires_a_database_password_from_the_environment():
    compose = COMPOSE.read_text()
    uses = re.findall(r"\$\{POSTGRES_PASSWORD[^}]*\}", compose)

    assert len(uses) == 2
    assert set(uses) == {"${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}"}
