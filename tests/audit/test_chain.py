"""The audit trail is a hash chain: a changed, missing or forged event is found and named; prunes stay verifiable."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.chain import event_hash
from audit.models import GENESIS_HASH, AuditAction, AuditEvent
from audit.selectors import audit_chain_head, audit_chain_verify
from audit.services import audit_prune, audit_record
from tests.markers import on_postgres

pytestmark = pytest.mark.django_db


def forger_owns_the_table():
    """A forger who owns the table may switch PostgreSQL's append-only trigger off (the test's transaction
    switches it back on); on SQLite nothing stops them. Either way the chain must give them away."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")


def record_three(user):
    return [audit_record(action=AuditAction.SIGN_IN, target=user, actor=user) for _ in range(3)]


def test_each_event_holds_the_hash_of_the_one_before(clinician):
    first, second, third = record_three(clinician)
    assert first.prev_hash == GENESIS_HASH
    assert (second.prev_hash, third.prev_hash) == (first.hash, second.hash)
    assert [e.id for e in (first, second, third)] == [1, 2, 3]
    assert all(event_hash(AuditEvent.objects.get(pk=e.pk)) == e.hash for e in (first, second, third))
    assert audit_chain_head() == {"id": third.id, "hash": third.hash}


def test_an_intact_chain_verifies(clinician, capsys):
    record_three(clinician)
    call_command("audit_verify")
    assert "Audit chain intact: events 1 to 3 (3)" in capsys.readouterr().out


def test_altering_one_event_makes_audit_verify_name_it(clinician):
    forger_owns_the_table()
    _, second, _ = record_three(clinician)
    AuditEvent.objects.filter(pk=second.pk).update(after=json.dumps({"role": "admin"}))
    with pytest.raises(CommandError) as failed:
        call_command("audit_verify")
    assert f"broken at event {second.pk}" in str(failed.value)
    assert "does not match its hash" in str(failed.value)
    assert failed.value.returncode == 1


def test_a_forger_who_rehashes_the_event_breaks_the_next_link(clinician):
    forger_owns_the_table()
    _, second, third = record_three(clinician)
    forged = AuditEvent.objects.get(pk=second.pk)
    forged.actor_label = "someone-else@example.org"
    AuditEvent.objects.filter(pk=second.pk).update(actor_label=forged.actor_label, hash=event_hash(forged))
    report = audit_chain_verify()
    assert report.broken.event_id == third.pk and "previous hash" in report.broken.reason


def test_a_deleted_event_in_the_middle_is_found(clinician):
    forger_owns_the_table()
    _, second, third = record_three(clinician)
    AuditEvent.objects.filter(pk=second.pk)._raw_delete(connection.alias)
    report = audit_chain_verify()
    assert report.broken.event_id == third.pk
    assert f"events {second.pk} to {second.pk} are missing" in report.broken.reason


def test_events_removed_from_the_end_are_found_by_the_chain_head(clinician):
    forger_owns_the_table()
    _, second, third = record_three(clinician)
    AuditEvent.objects.filter(pk=third.pk)._raw_delete(connection.alias)
    report = audit_chain_verify()
    assert report.broken is not None
    assert f"names event {third.pk}, but the newest is {second.pk}" in report.broken.reason


def test_pruning_leaves_a_signed_summary_from_which_the_chain_verifies(clinician, settings):
    forger_owns_the_table()
    old = record_three(clinician)
    AuditEvent.objects.filter(pk__in=[e.pk for e in old[:2]]).update(created_at=timezone.now() - timedelta(days=10))
    # Ageing them by hand broke those two events' hashes; they are the ones pruned, so the rest still verifies.
    settings.CONCORD_AUDIT_RETENTION_DAYS = 5
    call_command("audit_prune")
    assert list(AuditEvent.objects.order_by("id").values_list("id", flat=True)) == [3, 4]
    summary = AuditEvent.objects.get(pk=4)
    assert summary.action == AuditAction.AUDIT_PRUNED
    content = json.loads(summary.after)
    assert content["counts_by_action"] == {"sign_in": 2} and content["count"] == 2
    assert (content["first_pruned_id"], content["last_pruned_id"]) == (1, 2)
    assert content["last_pruned_hash"] == old[1].hash and len(content["signature"]) == 64
    report = audit_chain_verify()
    assert report.broken is None and (report.first_id, report.last_id) == (3, 4)


def test_a_summary_signed_with_another_key_does_not_vouch_for_the_pruned_events(clinician, settings):
    record_three(clinician)
    audit_prune(before=timezone.now() + timedelta(days=1))
    settings.SECRET_KEY = "another-deployments-key"
    report = audit_chain_verify()
    assert report.broken is not None and "no signed prune summary" in report.broken.reason


def test_nothing_old_enough_prunes_nothing(clinician, capsys):
    record_three(clinician)
    call_command("audit_prune")
    assert "nothing pruned" in capsys.readouterr().out
    assert AuditEvent.objects.count() == 3


def test_an_unknown_action_is_refused():
    with pytest.raises(ValueError, match="'renamed_thing' is not an audit action"):
        audit_record(action="renamed_thing")


@on_postgres
@pytest.mark.parametrize("statement", ["UPDATE audit_auditevent SET after = '{}'", "DELETE FROM audit_auditevent"])
def test_postgres_refuses_update_and_delete_on_audit_events(clinician, statement):
    record_three(clinician)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert AuditEvent.objects.count() == 3 and audit_chain_verify().broken is None


@on_postgres
def test_postgres_lets_only_the_prune_delete(clinician):
    events = record_three(clinician)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=events[0].pk).delete()
    summary = audit_prune(before=timezone.now() + timedelta(days=1))
    assert list(AuditEvent.objects.values_list("id", flat=True)) == [summary.pk]
    assert audit_chain_verify().broken is None
