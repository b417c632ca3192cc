import pytest
from django.urls import reverse

from tests.factories import ClinicianFactory

PASSWORD = "a-long-test-password"
PROXY = "10.0.0.2"


@pytest.fixture
def behind_one_proxy(production_settings):
    return production_settings(CONCORD_TRUSTED_PROXIES="1")


def log_in(client, email: str, password: str, *, via_proxy_for: str | None = None, remote_addr: str = PROXY):
    """POST the login form; through the proxy, the client's address is the last X-Forwarded-For entry."""
    headers = {"X-Forwarded-For": via_proxy_for} if via_proxy_for else {}
    client.logout()
    response = client.post(
        reverse("account_login"),
        {"login": email, "password": password},
        headers=headers,
        REMOTE_ADDR=remote_addr,
        secure=True,
    )
    return response.status_code == 302


@pytest.mark.django_db
def test_a_locked_account_does_not_lock_other_users_or_the_owner_elsewhere(client, behind_one_proxy):
    victim, colleague = ClinicianFactory(), ClinicianFactory()
    for _ in range(5):
        assert not log_in(client, victim.email, "wrong-guess-123", via_proxy_for="203.0.113.9")

    assert not log_in(client, victim.email, PASSWORD, via_proxy_for="203.0.113.9")
    assert log_in(client, colleague.email, PASSWORD, via_proxy_for="203.0.113.9")
    assert log_in(client, victim.email, PASSWORD, via_proxy_for="198.51.100.4")


@pytest.mark.django_db
def test_two_clients_behind_the_trusted_proxy_are_two_addresses(client, behind_one_proxy):
    users = ClinicianFactory.create_batch(5)
    for user in users:
        for _ in range(4):
            log_in(client, user.email, "wrong-guess-123", via_proxy_for="203.0.113.9")

    # The attacker's address is now refused, even with a right password; the proxy's other client is not.
    assert not log_in(client, users[0].email, PASSWORD, via_proxy_for="203.0.113.9")
    assert log_in(client, users[0].email, PASSWORD, via_proxy_for="198.51.100.4")


@pytest.mark.django_db
def test_a_forged_forwarded_for_entry_does_not_give_a_new_address(client, behind_one_proxy):
    """The proxy appends the address it saw: what the client wrote before it is not trusted."""
    user = ClinicianFactory()
    for n in range(5):
        log_in(client, user.email, "wrong-guess-123", via_proxy_for=f"192.0.2.{n}, 203.0.113.9")

    assert not log_in(client, user.email, PASSWORD, via_proxy_for="192.0.2.77, 203.0.113.9")


@pytest.mark.django_db
def test_without_a_trusted_proxy_forwarded_for_is_ignored(client, production_settings):
    user = ClinicianFactory()
    for n in range(5):
        log_in(client, user.email, "wrong-guess-123", via_proxy_for=f"192.0.2.{n}", remote_addr="203.0.113.9")

    assert not log_in(client, user.email, PASSWORD, via_proxy_for="192.0.2.99", remote_addr="203.0.113.9")
    assert log_in(client, user.email, PASSWORD, remote_addr="198.51.100.4")


def test_a_proxy_count_that_is_not_a_number_is_refused_by_name(production_settings):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="CONCORD_TRUSTED_PROXIES='two'"):
        production_settings(CONCORD_TRUSTED_PROXIES="two")
