"""Presidio recognizers for the HIPAA Safe Harbor identifiers that occur in free text.

They work without an NLP model: Presidio's context enhancer needs tokens from a model, so the
context words that make a number an MRN or a capitalised word a name are part of each pattern
here, and only the identifier itself (the `phi` group) becomes the finding's span.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from enum import StrEnum
from pathlib import Path

import regex
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import CreditCardRecognizer, IpRecognizer

DATA_DIR = Path(__file__).resolve().parent / "data"
NAME_FILES_ENV = "CONCORD_PHI_NAME_FILES"


class PhiKind(StrEnum):
    NAME = "NAME"
    ADDRESS = "ADDRESS"
    ZIP = "ZIP"
    DATE = "DATE"
    AGE = "AGE"
    PHONE = "PHONE"
    FAX = "FAX"
    EMAIL = "EMAIL"
    SSN = "SSN"
    MRN = "MRN"
    HEALTH_PLAN = "HEALTH_PLAN"
    ACCOUNT = "ACCOUNT"
    LICENSE = "LICENSE"
    VEHICLE = "VEHICLE"
    DEVICE = "DEVICE"
    URL = "URL"
    IP = "IP"


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

ICASE = regex.IGNORECASE
APOS = "['\u2019]"  # straight or typographic apostrophe
MONTH_FULL = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?"
    r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
MONTH_DOT = MONTH + r"\.?"
STATES = (
    r"(?:AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY"
    r"|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY"
    r"|Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia|Hawaii"
    r"|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|Michigan"
    r"|Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada|New\s+Hampshire|New\s+Jersey|New\s+Mexico"
    r"|New\s+York|North\s+Carolina|North\s+Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|Rhode\s+Island"
    r"|South\s+Carolina|South\s+Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington|West\s+Virginia"
    r"|Wisconsin|Wyoming)"
)
STREET_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Ter"
    r"|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Row|Close|Crescent)"
)
# A capitalised name token: Smith, O'Brien, McDonald, Garcia-Lopez.
NAME_TOKEN = r"(?:[A-Z][a-z]*" + APOS + r"[A-Z][a-z]+|Ma?c[A-Z][a-z]+|[A-Z][a-z]+(?:-[A-Z][a-z]+)?)"
# An identifier: letters, digits and dashes with at least one digit, five characters or more.
ID_VALUE = (
    r"(?!\d+(?:\.\d+)?(?:mg|mcg|ml|g|kg|units?|iu|mmol|meq)\b)"
    r"(?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]{3,24}[A-Za-z0-9](?![\w-])"
)
# Between a context word and the identifier: "number", "no.", "#", "is", ":" in any order.
ID_GAP = r"(?:\s*(?:number|numbers|no\.?|num\.?|#|ID|identifier|is|was|of|reads|on\s+file|:|=|-)){0,4}\s*[:#=]?\s*"

EPONYM_WORDS = (
    r"(?:disease|syndrome|sign|test|maneuver|manoeuvre|palsy|phenomenon|reflex|criteria|score|scale"
    r"|classification|lymphoma|sarcoma|tumou?r|nodes?|procedure|operation|ulcer|fracture|law|triad|cells?"
    r"|bod(?:y|ies)|disorder|dementia|chorea|ataxia|contracture|esophagus|ileitis|thyroiditis|encephalopathy"
    r"|diverticulum|formula|equation|position|needle|catheter|tube|solution|anomaly|aneurysm|cyst|gland"
    r"|duct|space|membrane|line|point|ring|index|method|technique|repair|incision|spot|reaction|effect)"
)
_EPONYM_AFTER = regex.compile(r"(?:" + APOS + r"s?)?(?:\s*-\s*" + NAME_TOKEN + r")*\s+" + EPONYM_WORDS + r"\b", ICASE)
_POSSESSIVE_ALONE = regex.compile(APOS + r"s?(?!\w)")

# Capitalised words that follow "patient", "son" and similar context words without being names.
_STOPWORD_TEXT = """
    A An The This That These Those He She They We I It His Her Their Our My Its Was Is Are Were Has Have Had
    Be Been Being And Or But If Then When While With Without For From To In On At By Of As Not No Yes Denies
    Reports Reported States Stated Presents Presented Complains Admits Admitted Discharged Transferred Seen
    Evaluated Started Continued Stopped Given Received Underwent Tolerated Education Instructions
    Information History Medications Medication Allergies Allergy Plan Assessment Diagnosis Summary Note
    Notes Care Name Age Sex Male Female Unknown None Other Status Stable Alert Oriented Afebrile Today
    Yesterday Tomorrow Morning Evening Night Day Week Month Year Monday Tuesday Wednesday Thursday Friday
    Saturday Sunday Hospital Clinic Unit Room Bed Emergency Department Service Team Nurse Doctor Physician
    Provider Patient Patients Family Mother Father Son Daughter Wife Husband Brother Sister Also Both Either
    Neither Some Any All Each Every Mr Mrs Ms Dr Please Follow Return Call Contact Check Review Monitor Type
    Stage Grade Class Level Left Right Bilateral Upper Lower Chest Abdomen Head Neck Back Heart Lung Lungs
    Liver Kidney Brain Blood Urine BP HR RR Temp Pain Fever Cough Nausea Vomiting Diarrhea Fatigue Weakness
    Medicine Surgery Therapy Physical Occupational Speech Internal General Social Work Nursing Pharmacy
    Emergency Intensive Critical Palliative Infectious Diseases Anesthesia Obstetrics Gynecology ENT ICU
    Tylenol Advil Motrin Lasix Coumadin Eliquis Xarelto Lipitor Zoloft Prozac Norvasc Synthroid Humira
    Keytruda Ozempic Januvia Plavix Benadryl Zofran Ativan Xanax Valium Narcan Epipen
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
# Specialties and roles ("referred by Cardiology", "signed by Hospitalist") are not people.
_NOT_A_NAME_ENDING = ("ology", "iatry", "iatrics", "ics", "ist", "ery")


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
    return not _EPONYM_AFTER.match(text, end)


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
        if first in STOPWORDS or (first.endswith(_NOT_A_NAME_ENDING) and first not in self.surnames):
            return None
        return start, start + tokens[-1][1]

    def spans(self, text: str) -> Iterable[tuple[PhiKind, int, int, float]]:
        for pattern, score in ((self._titled, 0.9), (self._context, 0.75)):
            for match in pattern.finditer(text):
                trimmed = self._trim(text, *match.span("phi"))
                if trimmed and not _EPONYM_AFTER.match(text, trimmed[1]):
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
                if not _EPONYM_AFTER.match(text, end) and not (
                    _POSSESSIVE_ALONE.match(text, end) and _EPONYM_AFTER.match(text, end)
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


def _valid_numeric_date(match: regex.Match, text: str) -> bool:
    a, b = int(match.group("a")), int(match.group("b"))
    return (1 <= a <= 12 and 1 <= b <= 31) or (1 <= b <= 12 and 1 <= a <= 31)


def _vin_check_digit_ok(vin: str) -> bool:
    values = {**{str(d): d for d in range(10)}}
    for letters, start in (("ABCDEFGH", 1), ("JKLMN", 1), ("PR", 7), ("STUVWXYZ", 2)):
        for offset, letter in enumerate(letters):
            values[letter] = start + offset
    values["R"] = 9
    weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
    try:
        total = sum(values[c] * w for c, w in zip(vin.upper(), weights, strict=True))
    except KeyError:
        return False
    check = total % 11
    return vin[8].upper() == ("X" if check == 10 else str(check))


def _vin(match: regex.Match, text: str) -> bool:
    vin = match.group("phi")
    digits = sum(c.isdigit() for c in vin)
    if not any(c.isalpha() for c in vin) or digits == 0:
        return False
    # Without "VIN" before it, only a 17-character code whose check digit holds is taken for one.
    return bool(match.group("ctx")) or (digits >= 3 and _vin_check_digit_ok(vin))


def _id_context(words: str) -> str:
    return r"\b(?:" + words + r")\b" + ID_GAP + r"(?P<phi>" + ID_VALUE + r")"


def build_recognizers(*, given: frozenset[str] | None = None, surnames: frozenset[str] | None = None) -> list:
    """Every recognizer of the pattern-mode scanner, in a fixed order (the release card lists them)."""
    given = given if given is not None else load_names("given_names.txt")
    surnames = surnames if surnames is not None else load_names("surnames.txt")
    date_context = r"(?:DOB|D\.O\.B\.|born(?:\s+on)?|birth(?:\s*date)?|admitted(?:\s+on)?|discharged(?:\s+on)?|seen\s+on|on|dated?|since|expired(?:\s+on)?|died(?:\s+on)?|deceased(?:\s+on)?|surgery\s+on)"  # noqa: E501
    recognizers = [
        NameRecognizer(given=given, surnames=surnames),
        ContextPatternRecognizer(
            name="StreetAddressRecognizer",
            kind=PhiKind.ADDRESS,
            patterns=[
                (
                    r"\b\d{1,6}[A-Z]?\s+(?:[NSEW]\.?\s+|North\s+|South\s+|East\s+|West\s+)?"
                    r"(?:(?:[A-Z][a-z]+|\d+(?:st|nd|rd|th))\s+){1,3}" + STREET_SUFFIX + r"\b\.?"
                    r"(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Flat|#)\.?\s*#?[A-Za-z0-9-]+)?"
                    r"(?:,\s*[A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2},\s*" + STATES + r"\b)?",
                    0.85,
                ),
                (r"\bP\.?\s?O\.?\s+Box\s+\d+\b", 0.85, ICASE),
                (
                    r"\b(?:lives|resides|residing|living|moved)\s+(?:on|at|to)\s+(?P<phi>(?:[A-Z][a-z]+\s+){1,3}"
                    + STREET_SUFFIX
                    + r")\b",
                    0.7,
                ),
            ],
        ),
        ContextPatternRecognizer(
            name="ZipCodeRecognizer",
            kind=PhiKind.ZIP,
            patterns=[
                (r"\b" + STATES + r"\.?,?\s+(?P<phi>\d{5}(?:-\d{4})?)\b", 0.85),
                (r"\b(?:zip|zip\s*code|postal\s+code|zipcode)\W{0,3}(?P<phi>\d{5}(?:-\d{4})?)\b", 0.85, ICASE),
            ],
        ),
        ContextPatternRecognizer(
            name="DateRecognizer",
            kind=PhiKind.DATE,
            patterns=[
                (r"(?<![\d/.-])(?P<a>\d{1,2})([/.-])(?P<b>\d{1,2})\2(?:19|20)\d{2}(?![\d/-]|\.\d)", 0.85),
                (r"(?<![\d/.-])(?P<a>\d{1,2})/(?P<b>\d{1,2})/\d{2}(?![\d/-]|\.\d)", 0.7),
                (r"\b(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?:T\d{2}:\d{2}(?::\d{2})?)?\b", 0.85),
                (r"\b" + MONTH_DOT + r"\s+(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?\b(?:,?\s+(?:19|20)\d{2}\b)?", 0.8),
                (
                    r"\b(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?\s+(?:of\s+)?" + MONTH_DOT + r"(?![a-z])"
                    r"(?:,?\s+(?:19|20)\d{2}\b)?",
                    0.8,
                ),
                (r"\b" + MONTH_FULL + r",?\s+(?:of\s+)?(?:19|20)\d{2}\b", 0.7),
                (
                    r"\b" + date_context + r"\s*:?\s+(?P<phi>(?P<a>\d{1,2})/(?P<b>\d{1,2}))(?![\d/])",
                    0.7,
                    ICASE,
                ),
            ],
            validate=lambda m, t: "a" not in m.re.groupindex or m.group("a") is None or _valid_numeric_date(m, t),
        ),
        ContextPatternRecognizer(
            name="AgeOver89Recognizer",
            kind=PhiKind.AGE,
            patterns=[
                (
                    r"\b(?P<phi>(?:9\d|1[01]\d|12[0-5])(?:\s*|-)(?:years?|yrs?|y)(?:\s*|-)(?:old|of\s+age|o\b|/o\b|\.o\.))",
                    0.85,
                    ICASE,
                ),
                (r"\b(?P<phi>(?:9\d|1[01]\d|12[0-5])\s?(?:yo|y/o|yr\s+old)\b)", 0.85, ICASE),
                (
                    r"\b(?:aged?|age\s+of|age\s+is|age\s*:)\s*(?P<phi>(?:9\d|1[01]\d|12[0-5]))"
                    r"(?!\s*(?:mg|%|mmHg|kg))\b",
                    0.8,
                    ICASE,
                ),
                (r"\b(?P<phi>(?:9\d|1[01]\d)\s?(?:M|F|yo\s?[MF]))\b(?=\s|,|$)", 0.6),
            ],
        ),
        PhoneFaxRecognizer(),
        ContextPatternRecognizer(
            name="EmailRecognizer",
            kind=PhiKind.EMAIL,
            patterns=[(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,24}\b", 0.9)],
        ),
        ContextPatternRecognizer(
            name="SsnRecognizer",
            kind=PhiKind.SSN,
            patterns=[
                (r"(?<![\w-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\w-])", 0.85),
                (r"\b(?:SSN|SS#|social\s+security(?:\s+(?:number|no\.?|#))?)\W{0,5}(?P<phi>\d{9})\b", 0.9, ICASE),
                (
                    r"\b(?:SSN|SS#|social\s+security(?:\s+(?:number|no\.?|#))?)\W{0,5}(?P<phi>\d{3}-\d{2}-\d{4})\b",
                    0.9,
                    ICASE,
                ),
            ],
        ),
        ContextPatternRecognizer(
            name="MedicalRecordNumberRecognizer",
            kind=PhiKind.MRN,
            patterns=[
                (
                    _id_context(
                        r"MRN|MR\s?#|medical\s+record(?:\s+number)?|record\s+(?:number|no\.?)|chart\s+(?:number|no\.?|#)"
                        r"|hospital\s+(?:number|no\.?|ID)|patient\s+ID|unit\s+number"
                    ),
                    0.85,
                    ICASE,
                ),
            ],
        ),
        ContextPatternRecognizer(
            name="HealthPlanRecognizer",
            kind=PhiKind.HEALTH_PLAN,
            patterns=[
                (
                    _id_context(
                        r"member|subscriber|policy|health\s+plan(?:\s+beneficiary)?|insurance(?:\s+policy)?|insurer"
                        r"|group|Medicaid|Medicare(?:\s+beneficiary)?|beneficiary|plan|MBI|coverage"
                    ),
                    0.8,
                    ICASE,
                ),
                (
                    r"\b[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d-?[AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d-?"
                    r"[AC-HJKMNP-RT-Y]{2}\d{2}\b",
                    0.7,
                ),
            ],
        ),
        ContextPatternRecognizer(
            name="AccountNumberRecognizer",
            kind=PhiKind.ACCOUNT,
            patterns=[
                (
                    _id_context(r"account|acct\.?|billing|invoice|encounter|visit|claim|bank|routing|IBAN|card"),
                    0.8,
                    ICASE,
                ),
            ],
        ),
        CreditCardRecognizer(supported_entity=PhiKind.ACCOUNT.value, name="CardNumberRecognizer"),
        ContextPatternRecognizer(
            name="LicenseCertificateRecognizer",
            kind=PhiKind.LICENSE,
            patterns=[
                (
                    _id_context(
                        r"licen[cs]e(?!\s+plate)|driver"
                        + APOS
                        + r"?s?\s+licen[cs]e|DEA|NPI|certificate|cert\.?|certification"
                        r"|registration|passport|permit|board\s+certification"
                    ),
                    0.8,
                    ICASE,
                ),
            ],
        ),
        ContextPatternRecognizer(
            name="VehicleIdentifierRecognizer",
            kind=PhiKind.VEHICLE,
            patterns=[
                (
                    r"(?P<ctx>\b(?:VIN|vehicle\s+identification\s+number|vehicle\s+ID)" + ID_GAP + r")?"
                    r"\b(?P<phi>[A-HJ-NPR-Z0-9]{17})\b",
                    0.85,
                    ICASE,
                ),
                (
                    r"\b(?:licen[cs]e\s+plate|plate|tag|registration\s+plate|car\s+registration)\b"
                    + ID_GAP
                    + r"(?P<phi>(?-i:(?=[A-Z0-9]{0,4}[ -]?[A-Z0-9]{0,4}\d)[A-Z0-9]{1,4}[ -]?[A-Z0-9]{1,4}"
                    r"(?:[ -]?[A-Z0-9]{1,3})?))(?![\w-])",
                    0.8,
                    ICASE,
                ),
            ],
            validate=lambda m, t: "ctx" not in m.re.groupindex or _vin(m, t),
        ),
        ContextPatternRecognizer(
            name="DeviceIdentifierRecognizer",
            kind=PhiKind.DEVICE,
            patterns=[
                (
                    _id_context(
                        r"serial|S/N|SN|device(?:\s+(?:ID|identifier|serial))?|UDI|IMEI|lot|implant\s+ID|model\s+and\s+serial"
                    ),
                    0.8,
                    ICASE,
                ),
                (r"\(01\)\d{14}(?:\(\d{2}\)[A-Za-z0-9]+)*", 0.85),
            ],
        ),
        ContextPatternRecognizer(
            name="UrlRecognizer",
            kind=PhiKind.URL,
            patterns=[
                (r"\b(?:https?://|www\.)[^\s<>\"']+(?<![.,;:!?)\]])", 0.85, ICASE),
                (
                    r"(?<![@\w.-])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|edu|gov|io|us|info|health|care|me)\b"
                    r"(?:/[^\s<>\"']*(?<![.,;:!?)\]]))?",
                    0.7,
                    ICASE,
                ),
            ],
        ),
        IpRecognizer(supported_entity=PhiKind.IP.value, name="IpAddressRecognizer"),
    ]
    return recognizers


PRESIDIO_KINDS = {kind.value: kind for kind in PhiKind}
