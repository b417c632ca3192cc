"""A clinician's save is scanned before it commits: seed task edits (curation.services.seed_tasks)."""

from curation.models import FlagKind, ItemFlag, SeedTask
from curation.models.phi import PhiFinding, PhiFindingState
from curation.services.phi_findings import phi_finding_clear
from curation.services.seed_tasks import seed_task_edit


def _open(task: SeedTask):
    return PhiFinding.objects.filter(item_task=task, state=PhiFindingState.OPEN).order_by("start")


def _scanner_flag(task: SeedTask):
    return ItemFlag.objects.filter(seed_task=task, kind=FlagKind.PHI, raised_by__isnull=True, cleared_at__isnull=True)


def test_a_span_cleared_as_not_phi_is_not_raised_again_when_another_field_is_edited(scanned_task, curator):
    for finding in _open(scanned_task):
        phi_finding_clear(finding_id=finding.pk, curator=curator, reason="Teaching case")

    seed_task_edit(
        task_id=scanned_task.pk,
        editor=curator,
        expected_version=scanned_task.version,
        changes={"reference_output": "Consider acute coronary syndrome first."},
        rationale="clearer output",
    )

    assert not _open(scanned_task).exists()
    assert not _scanner_flag(scanned_task).exists()


def test_a_clinicians_edit_is_scanned_as_it_is_saved(clean_task, clinician):
    seed_task_edit(
        task_id=clean_task.pk,
        editor=clinician,
        expected_version=clean_task.version,
        changes={"input": "Call the family at 617-555-0199."},
        rationale="added the scenario",
    )

    [finding] = _open(clean_task)
    assert (finding.kind, finding.field, finding.revision) == ("PHONE", "input", clean_task.version + 1)
    assert _scanner_flag(clean_task).exists()
