"""Curators put invited people to work from the project's Members tab, without the Django admin."""

from django.urls import reverse

from curation.models import Assignment, AssignmentStatus, Membership
from curation.services.reviews import review_submit
from tests.factories import AssignmentFactory, ClinicianFactory, SeedTaskFactory


def test_a_curator_adds_an_invited_clinician_who_then_sees_the_project(client, project, curator):
    newcomer = ClinicianFactory(email="newcomer@example.org", name="Nia Newcomer")
    client.force_login(curator)
    page = client.get(reverse("member_list", args=[project.slug])).content.decode()
    assert "Nia Newcomer" in page  # offered, not yet a member

    response = client.post(reverse("member_list", args=[project.slug]), {"people": [newcomer.pk]})

    assert response.status_code == 302
    assert Membership.objects.filter(project=project, user=newcomer).exists()
    client.force_login(newcomer)
    assert project.name in client.get(reverse("dashboard")).content.decode()


def test_the_assign_page_offers_a_member_added_on_the_members_tab(client, project, curator):
    newcomer = ClinicianFactory(email="newcomer@example.org", name="Nia Newcomer")
    client.force_login(curator)
    assert "Nia Newcomer" not in client.get(reverse("assign", args=[project.slug])).content.decode()

    client.post(reverse("member_list", args=[project.slug]), {"people": [newcomer.pk]})

    assert "Nia Newcomer" in client.get(reverse("assign", args=[project.slug])).content.decode()


def test_removing_a_member_keeps_their_reviews_and_releases_their_open_assignments(client, project, curator, clinician):
    done_task, open_task = SeedTaskFactory(project=project), SeedTaskFactory(project=project)
    done = AssignmentFactory(seed_task=done_task, reviewer=clinician)
    review_submit(
        reviewer=clinician,
        schema=project.seed_schema,
        seed_task=done_task,
        answers={
            "decision": "accept",
            "clinical_validity": 4,
            "clarity": 4,
            "difficulty": 3,
            "flags": [],
            "comment": "",
        },
    )
    done.status = AssignmentStatus.DONE
    done.save()
    pending = AssignmentFactory(seed_task=open_task, reviewer=clinician)
    client.force_login(curator)
    page = client.get(reverse("member_list", args=[project.slug])).content.decode()
    assert "clinician@example.org" in page

    client.post(reverse("member_remove", args=[project.slug, clinician.pk]))

    assert not Membership.objects.filter(project=project, user=clinician).exists()
    assert clinician.reviews.filter(seed_task=done_task).exists()
    assert Assignment.objects.get(pk=pending.pk).status == AssignmentStatus.SKIPPED
    assert Assignment.objects.get(pk=done.pk).status == AssignmentStatus.DONE
    client.force_login(clinician)
    assert client.get(reverse("task_list", args=[project.slug])).status_code == 404


def test_a_clinician_cannot_change_members_and_a_deactivated_person_is_not_offered(client, project, clinician):
    gone = ClinicianFactory(email="gone@example.org", name="Gone Person", is_active=False)
    client.force_login(clinician)
    assert client.get(reverse("member_list", args=[project.slug])).status_code == 403
    assert client.post(reverse("member_list", args=[project.slug]), {"people": [gone.pk]}).status_code == 403
    assert not Membership.objects.filter(user=gone).exists()
