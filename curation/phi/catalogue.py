"""Every recognizer of the pattern-mode scanner, in a fixed order (the release card lists them)."""

from __future__ import annotations

from presidio_analyzer.predefined_recognizers import CreditCardRecognizer, IpRecognizer

from curation.phi.patterns import (
    APOS,
    ICASE,
    ID_GAP,
    MONTH_DOT,
    MONTH_FULL,
    STATES,
    STREET_SUFFIX,
    id_context,
    valid_numeric_date,
    vin_valid,
)
from curation.phi.recognizers import ContextPatternRecognizer, NameRecognizer, PhiKind, PhoneFaxRecognizer, load_names


def build_recognizers(*, given: frozenset[str] | None = None, surnames: frozenset[str] | None = None) -> list:
    """Every recognizer of the pattern-mode scanner, in a fixed order (the release card lists them)."""
    given = given if given is not None else load_names("given_names.txt")
    surnames = surnames if surnames is not None else load_names("surnames.txt")
    return [*_person_recognizers(given, surnames), *_identifier_recognizers()]


def _person_recognizers(given: frozenset[str], surnames: frozenset[str]) -> list:
    """Names, places, dates and ages. A table of patterns, one entry a recognizer: kept whole so it reads as one."""
    date_context = r"(?:DOB|D\.O\.B\.|born(?:\s+on)?|birth(?:\s*date)?|admitted(?:\s+on)?|discharged(?:\s+on)?|seen\s+on|on|dated?|since|expired(?:\s+on)?|died(?:\s+on)?|deceased(?:\s+on)?|surgery\s+on)"  # noqa: E501
    return [
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
            validate=lambda m, t: "a" not in m.re.groupindex or m.group("a") is None or valid_numeric_date(m, t),
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
    ]


def _identifier_recognizers() -> list:
    """Contact details, numbers and codes. A table of patterns, one entry a recognizer: kept whole to read as one."""
    return [
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
                    id_context(
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
                    id_context(
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
                    id_context(r"account|acct\.?|billing|invoice|encounter|visit|claim|bank|routing|IBAN|card"),
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
                    id_context(
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
            validate=lambda m, t: "ctx" not in m.re.groupindex or vin_valid(m, t),
        ),
        ContextPatternRecognizer(
            name="DeviceIdentifierRecognizer",
            kind=PhiKind.DEVICE,
            patterns=[
                (
                    id_context(
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
