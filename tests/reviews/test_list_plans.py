"""On PostgreSQL, the review queue's and the attention list's pages are read from their indexes, in their
order, starting at the page's cursor: the query's order and cursor match the index, so a page never sorts
the whole list nor filters its way past every earlier row."""

import pytest
from django.db import connection
from django.urls import reverse

from curation.models import ItemFlag
from curation.pagination import keyset_page
from curation.selectors.reviews import ATTENTION_ORDERING, QUEUE_ORDERING, attention_flags, review_queue_for
from tests.markers import on_postgres
from tests.scale import grow


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # Small test tables would be scanned whole anyway; what is asked here is whether the index can
        # answer the query in its order from the cursor on.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _next_page_query(queryset, ordering, size):
    """The query of the page after the first, as keyset_page runs it."""
    from curation.pagination import _after, _decode

    first = keyset_page(queryset, ordering=ordering, cursor=None, size=size)
    _, key = _decode(first.next_cursor, len(ordering))
    return queryset.filter(_after(ordering, key, forward=True)).order_by(*ordering)[: size + 1]


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_a_queue_page_is_read_from_the_queue_index_from_its_cursor_on(project, clinician):
    grow(project, [clinician], 60)
    plan = _plan(_next_page_query(review_queue_for(user=clinician, project=project), QUEUE_ORDERING, 25))
    assert "assignment_queue_order" in plan and "Sort" not in plan, plan
    assert "ROW(CASE" in plan, plan  # the cursor is a bound of the index scan, not a filter after it


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_an_attention_page_is_read_from_the_open_flags_index_from_its_cursor_on(project, clinician):
    grow(project, [], 60, flags_by=clinician)
    plan = _plan(_next_page_query(attention_flags(project=project), ATTENTION_ORDERING, 25))
    assert "itemflag_attention" in plan and "Sort" not in plan, plan
    assert "ROW(" in plan, plan


def test_walking_the_attention_list_back_and_forth_gives_each_flag_once_in_order(client, project, clinician, curator):
    grow(project, [], 70, flags_by=clinician)
    ItemFlag.objects.filter(pk__in=ItemFlag.objects.order_by("id").values("pk")[:10]).update(
        raised_at="2026-01-01T00:00:00Z"
    )
    client.force_login(curator)
    url = reverse("attention_list", args=[project.slug])
    seen, page = [], client.get(url).context["page"]
    while True:
        seen += [flag.pk for flag in page]
        if not page.has_next:
            break
        page = client.get(url, {"cursor": page.next_cursor}).context["page"]
    expected = list(ItemFlag.objects.order_by("-raised_at", "-id").values_list("pk", flat=True))
    assert seen == expected
    back = client.get(url, {"cursor": page.previous_cursor}).context["page"]
    assert [flag.pk for flag in back] == expected[-len(page) - len(back) : -len(page)]
