"""The assign page: each reviewer's box sits beside their load, and a refused batch keeps the choice."""

import re

from django.urls import reverse

from tests.factories import ClinicianFactory, MembershipFactory, SeedTaskFactory


def test_each_reviewer_is_chosen_by_a_labelled_box_beside_their_load(client, project, clinician, curator):
    client.force_login(curator)
    body = client.get(reverse("assign", args=[project.slug])).content.decode()
    box = re.search(rf'<input type="checkbox" name="reviewers" value="{clinician.pk}" id="(reviewer-\d+)">', body)
    assert box and f'<label for="{box[1]}">{clinician.get_full_name()}</label>' in body
    assert 'data-testid="reviewer-load"' in body


def test_a_refused_batch_keeps_the_reviewers_ticked_and_says_what_was_wrong(client, project, clinician, curator):
    colleague = ClinicianFactory()
    MembershipFactory(project=project, user=colleague)
    task = SeedTaskFactory(project=project)
    client.force_login(curator)

    refused = client.post(
        reverse("assign", args=[project.slug]),
        {"kind": "seed_task", "selection": f"{task.pk}", "limit": "10", "reviewers": [colleague.pk], "k": "0"},
    )

    body = refused.content.decode()
    assert refused.status_code == 400 and "Ensure this value is greater than or equal to 1" in body
    assert f'value="{colleague.pk}" id="reviewer-{colleague.pk}" checked>' in body
    assert f'value="{clinician.pk}" id="reviewer-{clinician.pk}">' in body


def test_choosing_no_reviewer_is_refused_with_the_fields_message(client, project, clinician, curator):
    task = SeedTaskFactory(project=project)
    client.force_login(curator)
    refused = client.post(
        reverse("assign", args=[project.slug]),
        {"kind": "seed_task", "selection": f"{task.pk}", "limit": "10", "k": "1"},
    )
    assert refused.status_code == 400 and "This field is required." in refused.content.decode()
