"""The PHI queue page: curators only, the text escaped with each finding's span marked by kind."""

import pytest
from django.urls import reverse

from curation.models.phi import PhiFinding, PhiFindingState
from curation.services.phi import phi_item_scan
from tests.factories import SeedTaskFactory


@pytest.fixture
def hostile_task(project):
    """A task whose text would run as HTML if the page did not escape it, with a date of birth."""
    task = SeedTaskFactory(project=project, instruction='<script>alert("x")</script> DOB 03/14/1931 & more')
    phi_item_scan(owner=task)
    return task


def test_the_queue_escapes_the_text_and_marks_each_span_with_its_kind(client, curator, project, hostile_task):
    client.force_login(curator)
    [finding] = PhiFinding.objects.filter(item_task=hostile_task)

    page = client.get(reverse("phi_queue", args=[project.slug])).content.decode()

    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; DOB " in page
    assert (
        f'<mark class="phi phi-date" id="finding-{finding.pk}" data-kind="DATE">03/14/1931'
        '<span class="phi-kind">DATE</span></mark> &amp; more'
    ) in page
    assert ' style="' not in page  # the Content-Security-Policy refuses style attributes


def test_clinicians_get_403_and_outsiders_404(client, clinician, outsider, project, hostile_task):
    finding = PhiFinding.objects.filter(item_task=hostile_task).first()
    for user, status in ((clinician, 403), (outsider, 404)):
        client.force_login(user)
        assert client.get(reverse("phi_queue", args=[project.slug])).status_code == status
        clear = reverse("phi_finding_clear", args=[project.slug, finding.pk])
        assert client.post(clear, {"reason": "not PHI"}).status_code == status
    finding.refresh_from_db()
    assert finding.state == PhiFindingState.OPEN


def test_a_curator_clears_one_finding_and_redacts_another_from_the_page(client, curator, project):
    task = SeedTaskFactory(project=project, instruction="Patient John Smith, DOB 03/14/1931, has angina.")
    phi_item_scan(owner=task)
    name, date = PhiFinding.objects.filter(item_task=task).order_by("start")
    client.force_login(curator)

    cleared = client.post(reverse("phi_finding_clear", args=[project.slug, name.pk]), {"reason": "Textbook name"})
    redacted = client.post(reverse("phi_finding_redact", args=[project.slug, date.pk]))

    assert cleared.status_code == redacted.status_code == 302
    task.refresh_from_db()
    assert task.instruction == "Patient John Smith, DOB [DATE], has angina."
    page = client.get(reverse("phi_queue", args=[project.slug])).content.decode()
    assert "No open finding." in page


def test_clearing_without_a_reason_says_why_and_leaves_it_open(client, curator, project, hostile_task):
    finding = PhiFinding.objects.filter(item_task=hostile_task).first()
    client.force_login(curator)

    response = client.post(reverse("phi_finding_clear", args=[project.slug, finding.pk]), {"reason": ""}, follow=True)

    assert "is still open: Say why this is not protected health information." in response.content.decode()
    finding.refresh_from_db()
    assert finding.state == PhiFindingState.OPEN


def test_redacting_an_accepted_task_says_it_is_back_in_review(client, curator, project, scanned_task):
    date = PhiFinding.objects.get(item_task=scanned_task, kind="DATE")
    client.force_login(curator)

    page = client.post(reverse("phi_finding_redact", args=[project.slug, date.pk]), follow=True).content.decode()

    assert f"Seed task {scanned_task.pk} is back in review: accept it again to release it." in page
