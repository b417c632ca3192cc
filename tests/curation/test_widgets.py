"""PlainSelect draws exactly what Django's Select draws, without going through its templates."""

import pytest
from django import forms
from django.urls import reverse

from curation.forms.widgets import PlainSelect

CHOICES = [
    ("", "---------"),
    ("a", "A & <b>bold</b>"),
    (1, "Quote \"x\" and 'y'"),
    ("Group <1>", [("g1", "G1"), ("g2", "G2")]),
]


@pytest.mark.parametrize("value", ["", "a", 1, "1", "g2", None, ["a"], "not a choice"])
@pytest.mark.parametrize(
    "attrs", [None, {"id": "id_topic", "class": "wide", "required": True, "disabled": False, "data-x": '<"&>'}]
)
def test_a_plain_select_draws_the_same_html_as_djangos_select(value, attrs):
    assert PlainSelect(choices=CHOICES).render("topic", value, attrs) == forms.Select(choices=CHOICES).render(
        "topic", value, attrs
    )


@pytest.mark.django_db
def test_the_task_list_filters_keep_the_chosen_status(client, project, curator):
    client.force_login(curator)
    page = client.get(reverse("task_list", args=[project.slug]), {"status": "accepted"}).content.decode()
    assert '<select name="status" id="id_status">' in page
    assert '<option value="accepted" selected>Accepted</option>' in page
    assert '<option value="in_review">' in page
