"""The assign page costs the same number of queries with 5 items per reviewer as with 50."""

from django.urls import reverse

from tests.factories import ClinicianFactory, MembershipFactory, ProjectFactory
from tests.scale import grow, queries


def test_assign_page_costs_the_same_with_5_and_50_items_and_shows_each_reviewers_load(
    client, project, clinician, curator, django_assert_num_queries
):
    colleague = ClinicianFactory()
    MembershipFactory(project=project, user=colleague)
    elsewhere = ProjectFactory()
    MembershipFactory(project=elsewhere, user=clinician)
    client.force_login(curator)
    url = reverse("assign", args=[project.slug])
    grow(project, [clinician, colleague], 6)
    grow(elsewhere, [clinician], 6)  # another project's load is not this project's
    small = queries(client, "get", url)
    load = {m.user_id: (m.pending, m.done) for m in client.get(url).context["reviewers"]}
    assert load == {clinician.pk: (2, 2), colleague.pk: (2, 2)}
    grow(project, [clinician, colleague], 45)
    with django_assert_num_queries(small):
        client.get(url)
