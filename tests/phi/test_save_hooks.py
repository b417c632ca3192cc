"""A clinician's save is scanned before it commits: seed task edits (curation.services.seed_tasks) and reviews."""

import curation.services.phi as phi_services
from curation.models import FlagKind, ItemFlag, SeedTask
from curation.models.phi import PhiFinding, PhiFindingState, PhiScan
from curation.services.phi import phi_item_scan
from curation.services.phi_findings import phi_finding_clear
from curation.services.reviews import review_submit
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


def test_a_reviews_next_version_lifts_the_flag_its_comment_raised_and_a_review_without_text_leaves_it(
    clean_task, clinician
):
    def submit(comment: str):
        answers = {"decision": "accept", "clinical_validity": 4, "clarity": 4, "difficulty": 3, "comment": comment}
        return review_submit(
            reviewer=clinician, schema=clean_task.project.seed_schema, seed_task=clean_task, answers=answers
        )

    first = submit("Reminds me of Mrs. Jane Doe seen on 02/03/2024.")
    assert _scanner_flag(clean_task).exists()

    second = submit("Reminds me of a patient seen last spring.")
    assert not PhiFinding.objects.filter(review=first, state=PhiFindingState.OPEN).exists()
    assert not _scanner_flag(clean_task).exists()

    clean_task.instruction = "Patient John Smith, DOB 03/14/1931, presented with chest pain."
    clean_task.save()
    phi_item_scan(owner=clean_task)
    third = submit("")  # nothing to find and nothing dropped: the task's own findings keep its flag
    assert _scanner_flag(clean_task).exists()
    assert PhiScan.objects.filter(review__in=[first, second, third]).count() == 3


def test_a_review_is_scanned_for_what_its_reviewer_wrote_and_not_for_the_choices_the_form_offers(
    clean_task, clinician, monkeypatch
):
    scanned = []
    real_scan = phi_services.phi_scan
    monkeypatch.setattr(phi_services, "phi_scan", lambda text: scanned.append(text) or real_scan(text))
    answers = {"decision": "accept", "clinical_validity": 4, "clarity": 4, "difficulty": 3}
    schema = clean_task.project.seed_schema

    review_submit(reviewer=clinician, schema=schema, seed_task=clean_task, answers=answers)
    assert scanned == []  # choices alone: the scanner is not even loaded for this save

    review_submit(reviewer=clinician, schema=schema, seed_task=clean_task, answers={**answers, "comment": "Fine."})
    assert scanned == ["Fine."]
