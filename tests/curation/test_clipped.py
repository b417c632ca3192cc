"""The long lists clip their texts exactly as Django's truncatechars does, only faster."""

import pytest
from django.template.defaultfilters import truncatechars

from curation.templatetags.concord import clipped

TEXTS = [
    "",
    "Short.",
    "x" * 109,
    "x" * 110,
    "x" * 111,
    "Explain the management of diabetic ketoacidosis in an adult with severe dehydration. " * 4,
    "Décrivez la prise en charge de l'acidocétose diabétique chez l'adulte déshydraté. " * 3,
    "e\u0301" * 110,  # 110 letters each with a combining accent: not longer than 110 to a reader
    "e\u0301" * 111,
    "a" * 108 + "e\u0301\u0323" + "b" * 5,  # NFC composes one mark, keeps the other
    "\U0001f489 Insulin " * 30,
    12345,
]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("length", [1, 2, 80, 110, 120])
def test_clipped_gives_what_truncatechars_gives(text, length):
    assert clipped(text, length) == truncatechars(text, length)
