"""Presidio recognizers for the HIPAA Safe Harbor identifiers that occur in free text.

They work without an NLP model: Presidio's context enhancer needs tokens from a model, so the
context words that make a number an MRN or a capitalised word a name are part of each pattern
here, and only the identifier itself (the `phi` group) becomes the finding's span.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import regex
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from curation.phi.kinds import PRESIDIO_KINDS, PhiKind  # noqa: F401 (PRESIDIO_KINDS: re-exported)
from curation.phi.patterns import APOS, EPONYM_AFTER, ICASE, NAME_TOKEN, NOT_A_NAME_ENDING, POSSESSIVE_ALONE, STOPWORDS

DATA_DIR = Path(__file__).resolve().parent / "data"
NAME_FILES_ENV = "CONCORD_PHI_NAME_FILES"


Validator = Callable[[regex.Match, str], bool]


class ContextPatternRecognizer(EntityRecognizer):
    """Regular expressions whose `phi` group (or whole match) is the identifier.

    Each pattern is (expression, score, flags); `validate(match, text)` may reject a match.
    """

    def __init__(
        self,
        *,
        name: str,
        kind: PhiKind,
        patterns: Iterable[tuple[str, float] | tuple[str, float, int]],
        validate: Validator | None = None,
    ):
        self.kind = kind
        self.compiled = []
        for entry in patterns:
            expression, score, flags = (*entry, 0) if len(entry) == 2 else entry
            self.compiled.append((regex.compile(expression, flags | regex.VERSION1), score))
        self.validate = validate
        super().__init__(supported_entities=[kind.value], name=name, version="1")

    def load(self) -> None:
        pass

    def spans(self, text: str) -> Iterable[tuple[PhiKind, int, int, float]]:
        for pattern, score in self.compiled:
            for match in pattern.finditer(text, overlapped=False):
                if self.validate and not self.validate(match, text):
                    continue
                start, end = match.span("phi") if "phi" in pattern.groupindex else match.span()
                if end > start:
                    yield self.kind, start, end, score

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        return [
            RecognizerResult(entity_type=kind.value, start=start, end=end, score=score)
            for kind, start, end, score in self.spans(text)
            if kind.value in entities
        ]


# --- shared pieces ---------------------------------------------------------------------------


def extra_name_files() -> list[Path]:
    """Operator name lists: the PHI_NAME_FILES Django setting, else the environment variable."""
    configured: object = None
    try:
        from django.conf import settings

        if settings.configured:
            configured = getattr(settings, "PHI_NAME_FILES", None)
    except ImportError:  # the scanner also runs outside Django (benchmarks, scripts)
        configured = None
    if configured is None:
        configured = [p for p in os.environ.get(NAME_FILES_ENV, "").split(os.pathsep) if p.strip()]
    if isinstance(configured, str | Path):
        configured = [configured]
    return [Path(p) for p in configured]


def load_names(filename: str) -> frozenset[str]:
    """The shipped list plus operator files whose name ends the same way ("our_surnames.txt")."""
    extra = extra_name_files()
    for path in extra:
        if not path.name.endswith(("given_names.txt", "surnames.txt")):
            raise ValueError(
                f"PHI name list {path}: the file name must end in given_names.txt or surnames.txt "
                "so the scanner knows which list it extends"
            )
    names: set[str] = set()
    for path in [DATA_DIR / filename, *(p for p in extra if p.name.endswith(filename))]:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ValueError(f"PHI name list {path} cannot be read: {exc.strerror or exc}") from exc
        names.update(line.strip() for line in lines if line.strip() and not line.startswith("#"))
    return frozenset(names)


def _not_eponym(match: regex.Match, text: str) -> bool:
    end = match.end("phi") if "phi" in match.re.groupindex else match.end()
    return not EPONYM_AFTER.match(text, end)


class NameRecognizer(EntityRecognizer):
    """Person names: after a title, after a context word, and from the given-name/surname lists."""

    def __init__(self, *, given: frozenset[str], surnames: frozenset[str]):
        self.given, self.surnames = given, surnames
        self._token = regex.compile(NAME_TOKEN + r"(?!" + APOS + r"?\w)|[A-Z]\.(?=\s)")
        self._titled = regex.compile(
            r"\b(?:Mr|Mrs|Ms|Mx|Miss|Dr|Prof|Professor|Sister|Nurse|Rev)\.?\s+"
            r"(?P<phi>" + NAME_TOKEN + r"(?:\s+(?:[A-Z]\.\s+)?" + NAME_TOKEN + r"){0,2})"
        )
        self._context = regex.compile(
            r"(?:\b(?:[Pp]atient|[Pp]t\.?|named|called|goes\s+by|[Ss]on|[Dd]aughter|[Ww]ife|[Hh]usband|[Mm]other"
            r"|[Ff]ather|[Bb]rother|[Ss]ister|[Ss]pouse|[Pp]artner|[Gg]uardian|[Cc]aregiver|[Ff]riend|[Nn]eighbou?r"
            r"|[Ee]mployer|[Nn]ext\s+of\s+kin|NOK|[Rr]eferred\s+by|[Ss]igned\s+by|[Ss]een\s+by|[Aa]ttending"
            r"|PCP|[Ww]itness|[Pp]roxy)\s*[:,]?\s+|\b[Nn]ame\s*:\s*)"
            r"(?P<phi>" + NAME_TOKEN + r"(?:,?\s+(?:[A-Z]\.\s+)?" + NAME_TOKEN + r"){0,2})"
        )
        super().__init__(supported_entities=[PhiKind.NAME.value], name="NameRecognizer", version="1")

    def load(self) -> None:
        pass

    def _trim(self, text: str, start: int, end: int) -> tuple[int, int] | None:
        """Drop trailing tokens that are common capitalised words; None if the first one is."""
        tokens = [(m.start(), m.end()) for m in regex.finditer(NAME_TOKEN + r"|[A-Z]\.", text[start:end])]
        while tokens and text[start + tokens[-1][0] : start + tokens[-1][1]] in STOPWORDS:
            tokens.pop()
        if not tokens:
            return None
        first = text[start + tokens[0][0] : start + tokens[0][1]]
        if first in STOPWORDS or (first.endswith(NOT_A_NAME_ENDING) and first not in self.surnames):
            return None
        return start, start + tokens[-1][1]

    def spans(self, text: str) -> Iterable[tuple[PhiKind, int, int, float]]:
        for pattern, score in ((self._titled, 0.9), (self._context, 0.75)):
            for match in pattern.finditer(text):
                trimmed = self._trim(text, *match.span("phi"))
                if trimmed and not EPONYM_AFTER.match(text, trimmed[1]):
                    first = text[trimmed[0] :].split(None, 1)[0].rstrip(",")
                    known = first in self.given or first in self.surnames
                    yield PhiKind.NAME, *trimmed, score if known or pattern is self._titled else score - 0.1
        yield from self._dictionary_spans(text)

    def _dictionary_spans(self, text: str) -> Iterable[tuple[PhiKind, int, int, float]]:
        tokens = list(self._token.finditer(text))
        i = 0
        while i < len(tokens):
            word = tokens[i].group()
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            gap = text[tokens[i].end() : nxt.start()] if nxt else ""
            if word in self.surnames and nxt and gap in (", ", ",") and nxt.group() in self.given:
                yield PhiKind.NAME, tokens[i].start(), nxt.end(), 0.85  # "Smith, John"
                i += 2
                continue
            if word in self.given:
                end, score, j = tokens[i].end(), 0.6, i + 1
                while j < len(tokens) and j <= i + 2 and text[tokens[j - 1].end() : tokens[j].start()] == " ":
                    following = tokens[j].group()
                    if following in STOPWORDS or (following.endswith(".") and len(following) != 2):
                        break
                    end = tokens[j].end()
                    if following in self.surnames:
                        score = 0.85
                    elif len(following) > 2:
                        score = max(score, 0.7)
                    j += 1
                    if len(following) > 2:
                        break
                if not EPONYM_AFTER.match(text, end) and not (
                    POSSESSIVE_ALONE.match(text, end) and EPONYM_AFTER.match(text, end)
                ):
                    yield PhiKind.NAME, tokens[i].start(), end, score
                i = j
                continue
            i += 1

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        return [
            RecognizerResult(entity_type=kind.value, start=start, end=end, score=score)
            for kind, start, end, score in self.spans(text)
        ]


class PhoneFaxRecognizer(ContextPatternRecognizer):
    """North American and international numbers; a number after the word "fax" is a fax number."""

    _fax_before = regex.compile(r"fax|facsimile", ICASE)

    def __init__(self):
        super().__init__(
            name="PhoneFaxRecognizer",
            kind=PhiKind.PHONE,
            patterns=[
                (
                    r"(?<![\w/.-])(?:\+?1[-.\s]?)?(?:\(\d{3}\)\s?|\d{3}[-.\s])\d{3}[-.\s]\d{4}(?![\w/-]|\.\d)"
                    r"(?:\s*(?:x|ext\.?|extension)\s*\d{1,5})?",
                    0.8,
                ),
                (r"(?<![\w+])\+(?:[2-9]\d{0,2})(?:[\s.-]\d{1,4}){2,5}(?![\w-])", 0.7),
                (
                    r"\b(?:phone|tel|telephone|cell|mobile|call|fax|pager|contact)\b[^\d\n]{0,15}"
                    r"(?P<phi>(?<!\d)\d{10}(?!\d))",
                    0.75,
                    ICASE,
                ),
            ],
        )
        self.supported_entities = [PhiKind.PHONE.value, PhiKind.FAX.value]

    def spans(self, text: str) -> Iterable[tuple[PhiKind, int, int, float]]:
        for _, start, end, score in super().spans(text):
            digits = sum(c.isdigit() for c in text[start:end])
            if not 7 <= digits <= 15:
                continue
            kind = PhiKind.FAX if self._fax_before.search(text, max(0, start - 25), start) else PhiKind.PHONE
            yield kind, start, end, score
