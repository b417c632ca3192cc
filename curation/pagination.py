"""Keyset (cursor) pages for every list, in the pages and the API: the last page costs what the first costs.

A page is read as "rows after this key, in this order, LIMIT n+1" from an index, never as OFFSET (which
reads and throws away every earlier row) and never with a COUNT of the whole list. Links carry an opaque
cursor: the sort key of the page's last row (Next) or first row (Previous).
"""

import base64
import binascii
import datetime
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import BadRequest
from django.db.models import BooleanField, Expression, F, Q, QuerySet, Value
from django.http import HttpRequest
from rest_framework.pagination import CursorPagination

API_PAGE_SIZE = 50
API_MAX_PAGE_SIZE = 200


class ApiCursorPagination(CursorPagination):
    """The API's lists: `?cursor=` from the previous answer's `next`/`previous`, `?page_size=` up to 200.

    A view orders by its `cursor_ordering` (default newest first by id): a unique, unchanging key.
    """

    page_size = API_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = API_MAX_PAGE_SIZE
    ordering = "-id"

    def get_ordering(self, request, queryset, view):
        ordering = getattr(view, "cursor_ordering", self.ordering)
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)


@dataclass
class KeysetPage:
    """One page of a list and the cursors of its neighbours (None at either end)."""

    items: list
    next_cursor: str | None = None
    previous_cursor: str | None = None
    size: int = 0

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def is_keyset(self) -> bool:
        return True


def _encode(direction: str, key: list) -> str:
    raw = json.dumps([direction, [v.isoformat() if isinstance(v, datetime.datetime) else v for v in key]])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, width: int) -> tuple[str, list]:
    try:
        direction, key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise BadRequest(f"The page link's cursor {cursor[:40]!r} is not one this list made.") from exc
    if direction not in ("n", "p") or not isinstance(key, list) or len(key) != width:
        raise BadRequest(f"The page link's cursor {cursor[:40]!r} is not one this list made.")
    return direction, key


class _RowAfter(Expression):
    """`(a, b) > (x, y)` (or `<`): a row comparison, which PostgreSQL answers from an index on (..., a, b)
    by starting the scan at (x, y). The same rows as (a > x) OR (a = x AND b > y), which it can only
    filter row by row from the start of the list, so a deep page of a long queue read every row before it.
    SQLite compares rows the same way."""

    output_field = BooleanField()

    def __init__(self, columns: list[Expression], values: list[Any], *, greater: bool):
        super().__init__()
        self.columns, self.values, self.greater = columns, [Value(v) for v in values], greater

    def get_source_expressions(self) -> list:
        return [*self.columns, *self.values]

    def set_source_expressions(self, expressions) -> None:
        self.columns, self.values = expressions[: len(self.columns)], expressions[len(self.columns) :]

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        resolved = super().resolve_expression(query, allow_joins, reuse, summarize, for_save)
        # The cursor's values as their columns store them (a datetime from its ISO text, say).
        resolved.values = [
            Value(value.value, output_field=column.output_field)
            for column, value in zip(resolved.columns, resolved.values, strict=True)
        ]
        return resolved

    def as_sql(self, compiler, connection):
        sides, params = [], []
        for expressions in (self.columns, self.values):
            parts = []
            for expression in expressions:
                sql, part_params = compiler.compile(expression)
                parts.append(sql)
                params.extend(part_params)
            sides.append(f"({', '.join(parts)})")
        return f"{sides[0]} {'>' if self.greater else '<'} {sides[1]}", params


def _after(ordering: tuple[str, ...], key: list, *, forward: bool) -> Q:
    """Rows after `key` in `ordering` (or before it, going back). When every field is sorted the same
    way, one row comparison (a, b) > (x, y); otherwise (a > x) OR (a = x AND b > y) ..."""
    directions = {name.startswith("-") for name in ordering}
    if len(ordering) > 1 and len(directions) == 1:
        descending = directions.pop()
        columns = [F(name.lstrip("-")) for name in ordering]
        return Q(_RowAfter(columns, list(key), greater=descending != forward))
    condition = Q()
    equal = Q()
    for name, value in zip(ordering, key, strict=True):
        field_name = name.lstrip("-")
        ascending = not name.startswith("-")
        lookup = "gt" if ascending == forward else "lt"
        condition |= equal & Q(**{f"{field_name}__{lookup}": value})
        equal &= Q(**{field_name: value})
    return condition


def keyset_page(queryset: QuerySet, *, ordering: tuple[str, ...], cursor: str | None, size: int) -> KeysetPage:
    """The page of `queryset` after (or before) `cursor`, in `ordering`, whose last field must be unique.

    One query of at most size+1 rows: the extra row says whether there is a page beyond.
    """
    names = [name.lstrip("-") for name in ordering]
    if not cursor:
        direction, rows = "n", list(queryset.order_by(*ordering)[: size + 1])
    else:
        direction, key = _decode(cursor, len(ordering))
        forward = direction == "n"
        order = ordering if forward else tuple(n[1:] if n.startswith("-") else f"-{n}" for n in ordering)
        rows = list(queryset.filter(_after(ordering, key, forward=forward)).order_by(*order)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if direction == "p":
        rows.reverse()
    page = KeysetPage(items=rows, size=size)
    if not rows:
        return page

    def key_of(row) -> list:
        return [getattr(row, name) for name in names]

    if direction == "n":
        page.next_cursor = _encode("n", key_of(rows[-1])) if more else None
        page.previous_cursor = _encode("p", key_of(rows[0])) if cursor else None
    else:
        page.previous_cursor = _encode("p", key_of(rows[0])) if more else None
        page.next_cursor = _encode("n", key_of(rows[-1]))
    return page


def page_from_request(request: HttpRequest, queryset: QuerySet, *, ordering: tuple[str, ...], size: int) -> KeysetPage:
    """The page a list view shows for `?cursor=`; a cursor this list did not make is a 400 that says so."""
    return keyset_page(queryset, ordering=ordering, cursor=request.GET.get("cursor") or None, size=size)
