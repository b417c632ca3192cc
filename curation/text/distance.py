"""How far a reviewer's corrected response moved from the model's original: a word-level edit distance."""

import difflib
import re

_TOKEN = re.compile(r"\S+")
# Exact Levenshtein is quadratic; beyond this many word pairs the diff-based count (an upper bound
# that equals it for ordinary edits) keeps a page fast on very long responses.
EXACT_LIMIT = 1_000_000


def word_edit_distance(original: str, corrected: str) -> int:
    """Words inserted, deleted or replaced to turn `original` into `corrected` (Levenshtein over words)."""
    a, b = _TOKEN.findall(original or ""), _TOKEN.findall(corrected or "")
    if a == b:
        return 0
    if len(a) * len(b) > EXACT_LIMIT:
        return sum(
            max(i2 - i1, j2 - j1)
            for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()
            if tag != "equal"
        )
    previous = list(range(len(b) + 1))
    for i, word in enumerate(a, start=1):
        current = [i]
        for j, other in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other)))
        previous = current
    return previous[-1]
