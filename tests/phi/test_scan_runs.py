"""After an import, a worker scans every text it wrote, in chunks, counting its progress."""

import json
from unittest.mock import patch

import pytest
from django.core.management import CommandError, call_command
from django.db import DEFAULT_DB_ALIAS, connections
from django.urls import reverse

from curation.models import FlagKind, ItemFlag, SeedTask
from curation.models.phi import PhiFinding, PhiScan, PhiScanRun, PhiScanRunStatus
from curation.selectors.phi import phi_unscanned_tasks
from curation.services import phi as phi_service
from curation.services.imports import import_file
from curation.services.phi import phi_scan_run_execute
from curation.services.phi_findings import phi_finding_clear
from tests.factories import CuratorFactory, ProjectFactory, SeedTaskFactory
from tests.phi.conftest import CLEAN, WITH_PHI


@pytest.fixture
def alpaca_file(tmp_path):
    """Seven seed tasks in Alpaca form, two of them with identifiers in them."""
    records = [{"instruction": f"{CLEAN} Case {i}.", "input": "", "output": "Beta blockers."} for i in range(5)]
    records += [
        {"instruction": WITH_PHI, "input": "", "output": "Consider ACS."},
        {"instruction": "Summarise the note.", "input": "Reach the patient at 617-555-0199.", "output": "Done."},
    ]
    path = tmp_path / "seeds.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def test_an_import_is_scanned_after_it_commits_in_chunks_with_its_progress(
    project, curator, alpaca_file, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(phi_service, "SCAN_CHUNK", 3)
    progress = []
    real_update = phi_service._run_update
    monkeypatch.setattr(
        phi_service,
        "_run_update",
        lambda run_id, **f: (progress.append(f.get("texts_scanned")), real_update(run_id, **f)),
    )

    with django_capture_on_commit_callbacks(execute=True):
        job = import_file(project=project, path=alpaca_file, format="alpaca", created_by=curator)

    run = PhiScanRun.objects.get(import_job=job)
    assert (run.status, run.texts_total, run.texts_scanned) == (PhiScanRunStatus.DONE, 7, 7)
    assert [n for n in progress if n is not None] == [3, 6, 7]  # three chunks of at most three
    assert run.findings == 3  # a name and a date, and a phone number
    assert not phi_unscanned_tasks(project=project).exists()
    flagged = set(
        ItemFlag.objects.filter(kind=FlagKind.PHI, raised_by__isnull=True).values_list("seed_task_id", flat=True)
    )
    assert flagged == set(
        SeedTask.objects.filter(instruction__in=[WITH_PHI, "Summarise the note."]).values_list("pk", flat=True)
    )


def test_a_run_already_finished_is_left_as_it_is(project):
    run = PhiScanRun.objects.create(project=project, status=PhiScanRunStatus.DONE)
    unscanned = SeedTaskFactory(project=project)
    PhiScan.objects.filter(seed_task=unscanned).delete()

    again = phi_scan_run_execute(run_id=run.pk)

    assert (again.status, again.texts_scanned) == (PhiScanRunStatus.DONE, 0)
    assert phi_unscanned_tasks(project=project).get() == unscanned


def test_a_project_scan_reads_only_the_texts_not_scanned_as_they_are_now(project, scanned_task):
    unscanned = SeedTaskFactory(project=project, instruction=CLEAN)
    PhiScan.objects.filter(seed_task=unscanned).delete()

    run = phi_scan_run_execute(run_id=PhiScanRun.objects.create(project=project).pk)

    assert (run.texts_total, run.texts_scanned, run.status) == (1, 1, PhiScanRunStatus.DONE)
    assert PhiFinding.objects.filter(item_task=scanned_task).count() == 2  # untouched


@pytest.mark.django_db(transaction=True)
def test_others_write_while_a_run_scans_its_texts():
    # The scanner runs outside the chunk's transaction: on SQLite a transaction holds the one write
    # lock, and a reviewer's save would wait for every text of the chunk to be scanned.
    project = ProjectFactory()
    user = CuratorFactory()
    tasks = SeedTaskFactory.create_batch(3, project=project, instruction=WITH_PHI)
    PhiScan.objects.filter(seed_task__in=tasks).delete()
    PhiFinding.objects.all().delete()
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    with other.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 0" if other.vendor == "sqlite" else "SET lock_timeout = '100ms'")
    refused = []
    scan = phi_service.phi_scan

    def scan_while_someone_writes(text):
        try:
            with other.cursor() as cursor:
                cursor.execute("UPDATE accounts_user SET last_login = last_login WHERE id = %s", [user.pk])
        except Exception as exc:
            refused.append(str(exc))
        return scan(text)

    with patch.object(phi_service, "phi_scan", scan_while_someone_writes):
        try:
            run = phi_scan_run_execute(run_id=PhiScanRun.objects.create(project=project).pk)
        finally:
            other.close()

    assert refused == []
    assert (run.status, run.texts_scanned, run.findings) == (PhiScanRunStatus.DONE, 3, 6)
    assert ItemFlag.objects.filter(kind=FlagKind.PHI, seed_task__in=tasks, cleared_at__isnull=True).count() == 3


def test_a_text_edited_while_its_chunk_is_scanned_is_left_to_the_save_that_changed_it(project, monkeypatch):
    edited, kept = SeedTaskFactory.create_batch(2, project=project, instruction=WITH_PHI)
    PhiScan.objects.filter(seed_task__in=[edited, kept]).delete()
    PhiFinding.objects.all().delete()
    scan = phi_service.phi_scan

    def edit_during_the_scan(text):
        # Another save changes the first text after the run read it: its scan would describe old text.
        SeedTask.objects.filter(pk=edited.pk).update(instruction=CLEAN, content_hash="changed")
        return scan(text)

    monkeypatch.setattr(phi_service, "phi_scan", edit_during_the_scan)

    run = phi_scan_run_execute(run_id=PhiScanRun.objects.create(project=project).pk)

    assert run.status == PhiScanRunStatus.DONE
    assert not PhiScan.objects.filter(seed_task=edited).exists()
    assert not PhiFinding.objects.filter(seed_task=edited).exists()
    assert PhiFinding.objects.filter(seed_task=kept).count() == 2


def test_a_run_does_not_raise_again_a_span_cleared_as_not_phi(project, scanned_task, curator):
    for finding in PhiFinding.objects.filter(seed_task=scanned_task):
        phi_finding_clear(finding_id=finding.pk, curator=curator, reason="A fictional patient.")
    PhiScan.objects.filter(seed_task=scanned_task).delete()  # unscanned again, as after a scanner upgrade

    run = phi_scan_run_execute(run_id=PhiScanRun.objects.create(project=project).pk)

    assert (run.texts_scanned, run.findings) == (1, 0)
    assert not PhiFinding.objects.filter(seed_task=scanned_task, state="open").exists()
    assert not ItemFlag.objects.filter(seed_task=scanned_task, kind=FlagKind.PHI, cleared_at__isnull=True).exists()


def test_a_run_lifts_the_scanners_flag_of_a_text_no_longer_holding_phi(project, scanned_task):
    # The text changed without a scan (as a restored database or a direct fix would leave it).
    SeedTask.objects.filter(pk=scanned_task.pk).update(instruction=CLEAN, content_hash="changed")
    PhiScan.objects.filter(seed_task=scanned_task).delete()

    run = phi_scan_run_execute(run_id=PhiScanRun.objects.create(project=project).pk)

    assert (run.texts_scanned, run.findings) == (1, 0)
    assert not PhiFinding.objects.filter(seed_task=scanned_task, state="open").exists()
    flag = ItemFlag.objects.get(seed_task=scanned_task, kind=FlagKind.PHI)
    assert flag.cleared_at is not None and flag.cleared_by is None


def test_the_queue_page_shows_a_runs_progress(client, project, curator):
    PhiScanRun.objects.create(project=project, status=PhiScanRunStatus.RUNNING, texts_total=40, texts_scanned=12)
    client.force_login(curator)

    page = client.get(reverse("phi_queue", args=[project.slug])).content.decode()

    assert "scanned 12 of 40" in page
    assert 'hx-trigger="every 2s"' in page


def test_the_command_scans_the_unscanned_texts_in_its_own_process_and_says_what_it_found(
    project, curator, alpaca_file, capsys
):
    with patch("curation.jobs.phi_scan_task.delay"):  # no worker runs the scan the import queues
        import_file(project=project, path=alpaca_file, format="alpaca", created_by=curator)
    assert phi_unscanned_tasks(project=project).count() == 7

    call_command("phi_scan", "--project", project.slug)

    assert not phi_unscanned_tasks(project=project).exists()
    out = capsys.readouterr().out
    assert f"Scanned 7 text(s) of {project.slug}: 3 finding(s) in them." in out
    assert "3 open finding(s) for a curator on its PHI page, and 0 text(s) left unscanned." in out
    with pytest.raises(CommandError, match="--project: no project with slug 'nope'"):
        call_command("phi_scan", "--project", "nope")
