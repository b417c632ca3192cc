"""Word-level diffs of user text rendered as HTML, side by side, every piece escaped before it is wrapped."""

import difflib
import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Words and the whitespace between them, so an unchanged line break stays a line break.
_TOKEN = re.compile(r"\s+|[^\s]+")
# Beyond this many tokens a side, SequenceMatcher's junk heuristic keeps a long text fast.
EXACT_LIMIT = 5_000
# Tokens (words and spaces) of unchanged text kept on each side of a change.
CONTEXT = 24


def _context(tokens: list[str], *, first: bool, last: bool) -> str:
    """An unchanged stretch, shortened to a few words either side of the changes around it."""
    keep_before = 0 if first else CONTEXT
    keep_after = 0 if last else CONTEXT
    if len(tokens) <= keep_before + keep_after + CONTEXT:
        return escape("".join(tokens))
    head = "".join(tokens[:keep_before])
    tail = "".join(tokens[len(tokens) - keep_after :]) if keep_after else ""
    return f'{escape(head)}<span class="muted"> … </span>{escape(tail)}'


def _opcodes(old: str, new: str) -> tuple[list[str], list[str], list[tuple[str, int, int, int, int]]]:
    a, b = _TOKEN.findall(old or ""), _TOKEN.findall(new or "")
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=max(len(a), len(b)) > EXACT_LIMIT)
    return a, b, matcher.get_opcodes()


def side_by_side_diff_html(old: str, new: str) -> tuple[SafeString, SafeString]:
    """`old` and `new` as two escaped HTML columns: removals in <del> in the first, additions in <ins>
    in the second, so each side reads as the text it is. Unchanged stretches are shortened alike on
    both sides, so the columns stay aligned change by change."""
    a, b, opcodes = _opcodes(old, new)
    left, right = [], []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            same = _context(a[i1:i2], first=i1 == 0, last=i2 == len(a))
            left.append(same)
            right.append(same)
            continue
        if i2 > i1:
            left.append(f"<del>{escape(''.join(a[i1:i2]))}</del>")
        if j2 > j1:
            right.append(f"<ins>{escape(''.join(b[j1:j2]))}</ins>")
    # Safe: every user-supplied piece above went through escape().
    return mark_safe("".join(left)), mark_safe("".join(right))
