import unicodedata

from django import template
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from curation.text import plural
from curation.text.markdown import render_markdown

register = template.Library()

ALPHA = "\N{GREEK SMALL LETTER ALPHA}"


@register.filter
def clipped(text: str, length: int) -> str:
    """Django's truncatechars, for the long lists: the same text (NFC, at most `length` characters, a
    combining mark not counted, the last one an ellipsis). An ASCII text, as most are, is cut with a slice
    instead of a walk through every character and a translation lookup, which took a tenth of the task
    list's time at 25 rows; any other is walked as Django walks it."""
    text = unicodedata.normalize("NFC", str(text))
    if len(text) <= length:
        return text
    if text.isascii():
        return text[: length - 1] + "…"
    counted, end = 0, None
    for index, char in enumerate(text):
        if unicodedata.combining(char):
            continue
        counted += 1
        if end is None and counted >= length:
            end = index
        if counted > length:
            return text[:end] + "…"
    return text


@register.filter(name="markdown")
def markdown_filter(text: str) -> str:
    return mark_safe(render_markdown(text))


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced, for pagination links that keep filters."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()


@register.simple_tag
def estimate(e: dict) -> str:
    """An estimate with its interval, or "undefined" with the reason (an agreement report's entries).
    A tag, not an include: an agreement page shows a few hundred of them."""
    if e.get("value") is None:
        return format_html(
            '<span class="muted undefined">undefined</span><br><span class="muted small undefined-reason">{}</span>',
            e.get("undefined") or "",
        )
    shown = format_html('<span class="estimate">{}</span>', decimals(e["value"], 3))
    if e.get("ci_low") is None:
        return shown
    return format_html(
        '{} <span class="ci muted">[{}, {}]</span>', shown, decimals(e["ci_low"], 2), decimals(e["ci_high"], 2)
    )


@register.simple_tag
def rater_cell(cell: dict | None) -> str:
    """One cell of the agreement page's table of reviewers: how often a reviewer matches the others on a
    field (the items and alpha without them in its title) and how alpha moves without them. A tag, not
    template code: the table has a few hundred cells, whose dozen tags each were half the page's drawing."""
    if not cell:
        return mark_safe('<td class="num"><span class="muted">-</span></td>')
    value = cell["agreement_with_others"]["value"]
    shown = mark_safe('<span class="muted">-</span>') if value is None else decimals(value, 2)
    without = "undefined" if cell["alpha_without"] is None else localize(cell["alpha_without"])
    title = f"{cell['n_units']} items; {ALPHA} without this reviewer: {without}"
    gain = cell["alpha_gain_without"]
    moved = ""
    if gain is not None:
        sign = "+" if gain > 0 else ""
        moved = format_html('<br><span class="muted small">{} {}{} without</span>', ALPHA, sign, decimals(gain, 2))
    outlier = " outlier-cell" if cell["outlier"] else ""
    return format_html('<td class="num{}"><span title="{}">{}</span>{}</td>', outlier, title, shown, moved)


@register.filter
def decimals(value, places: int = 2) -> str:
    """A number with a fixed number of decimals ("" for None): floatformat without its Decimal and locale
    work, for tables of thousands of figures."""
    if value is None or value == "":
        return ""
    return f"{float(value):.{int(places)}f}"


@register.filter
def kind_counted(n: int, kind: str) -> str:
    """`{{ n|kind_counted:"seed_tasks" }}`: "1 seed task", "2 seed tasks", as import_items prints them."""
    return plural.kind_counted(kind, n)
