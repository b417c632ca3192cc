"""A seeded corpus of clinical snippets with planted identifiers, and one without any.

The texts with PHI plant every Safe Harbor kind the scanner knows, in the sentences a note
would carry them in; the texts without PHI are clinical prose full of traps (doses, lone years,
lab values, ages under 90, eponyms such as "Parkinson's disease"). Each planted identifier's
span is recorded, so a scanner can be scored by kind (recall) and overall (precision).
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from curation.phi.corpus_sentences import CLEAN_SENTENCES, TEMPLATES
from curation.phi.kinds import PhiKind
from curation.phi.recognizers import DATA_DIR
from curation.phi.scanner import Finding


@dataclass(frozen=True)
class Planted:
    kind: PhiKind
    start: int
    end: int


@dataclass(frozen=True)
class CorpusText:
    text: str
    planted: tuple[Planted, ...] = ()


@dataclass
class CorpusScores:
    recall: dict[PhiKind, float]
    planted: dict[PhiKind, int]
    precision: float
    findings: int
    false_positives: list[tuple[str, Finding]] = field(default_factory=list)
    missed: list[tuple[str, Planted]] = field(default_factory=list)


def _names(filename: str) -> list[str]:
    lines = (DATA_DIR / filename).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]  # fmt: skip
STREETS = ["Oak", "Maple", "Cedar", "Elm", "Washington", "Lincoln", "Park", "Lake", "Hill", "Sunset", "River",
           "Church", "Mill", "Spring", "Highland", "Forest", "Chestnut", "Walnut", "Jefferson", "Madison"]  # fmt: skip
SUFFIXES = ["Street", "St", "Avenue", "Ave", "Road", "Rd", "Lane", "Drive", "Court", "Boulevard", "Way", "Place"]
CITIES = [("Springfield", "IL"), ("Columbus", "OH"), ("Madison", "WI"), ("Portland", "OR"), ("Austin", "TX"),
          ("Denver", "CO"), ("Raleigh", "NC"), ("Albany", "NY"), ("Salem", "MA"), ("Fresno", "CA")]  # fmt: skip
DOMAINS = ["example.com", "mail.example.org", "clinic-mail.net", "inbox.example.us"]
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


class _Values:
    """Random identifier values of each kind, drawn from one seeded generator."""

    def __init__(self, rng: random.Random):
        self.r = rng
        self.given = _names("given_names.txt")
        self.surnames = _names("surnames.txt")

    def digits(self, n: int) -> str:
        return "".join(self.r.choice(string.digits) for _ in range(n))

    def letters(self, n: int) -> str:
        return "".join(self.r.choice(string.ascii_uppercase) for _ in range(n))

    def NAME(self) -> str:
        g, s = self.r.choice(self.given), self.r.choice(self.surnames)
        form = self.r.randrange(4)
        return [f"{g} {s}", f"{g} {self.letters(1)}. {s}", f"{g} {s}", f"{s}, {g}"][form]

    def SURNAME(self) -> str:
        return self.r.choice(self.surnames)

    def GIVEN(self) -> str:
        return self.r.choice(self.given)

    def DATE(self) -> str:
        y, m, d = self.r.randint(1925, 2024), self.r.randint(1, 12), self.r.randint(1, 28)
        return self.r.choice(
            [f"{m:02d}/{d:02d}/{y}", f"{m}/{d}/{y}", f"{y}-{m:02d}-{d:02d}", f"{MONTHS[m - 1]} {d}, {y}",
             f"{d} {MONTHS[m - 1]} {y}", f"{MONTHS[m - 1][:3]} {d}, {y}", f"{m}/{d}/{y % 100:02d}",
             f"{MONTHS[m - 1]} {d}", f"{MONTHS[m - 1]} {y}", f"{d}.{m}.{y}"]
        )  # fmt: skip

    def AGE(self) -> str:
        a = self.r.randint(90, 108)
        return self.r.choice([f"{a}-year-old", f"{a} year old", f"{a} years old", f"{a} yo", f"{a} y/o"])

    def ADDRESS(self) -> str:
        number = self.r.randint(1, 9999)
        street = f"{self.r.choice(STREETS)} {self.r.choice(SUFFIXES)}"
        unit = self.r.choice(["", f", Apt {self.r.randint(1, 40)}{self.r.choice('ABC')}", f" Unit {self.digits(2)}"])
        city, state = self.r.choice(CITIES)
        return self.r.choice([f"{number} {street}{unit}", f"{number} {street}{unit}, {city}, {state}"])

    def ZIP(self) -> str:
        return self.digits(5) if self.r.random() < 0.8 else f"{self.digits(5)}-{self.digits(4)}"

    def PHONE(self) -> str:
        a, b, c = self.r.randint(201, 989), self.r.randint(200, 999), self.digits(4)
        return self.r.choice(
            [f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"+1 {a} {b} {c}", f"{a}-{b}-{c} x{self.digits(3)}"]
        )

    FAX = PHONE

    def EMAIL(self) -> str:
        given, surname = self.r.choice(self.given).lower(), self.r.choice(self.surnames).lower()
        user = f"{given}{self.r.choice(['.', '_', ''])}{surname}"
        return f"{user.replace(chr(39), '')}{self.r.choice(['', self.digits(2)])}@{self.r.choice(DOMAINS)}"

    def SSN(self) -> str:
        area = self.r.choice([n for n in range(1, 900) if n != 666])
        return f"{area:03d}-{self.r.randint(1, 99):02d}-{self.r.randint(1, 9999):04d}"

    def MRN(self) -> str:
        return self.r.choice(
            [self.digits(8), self.digits(7), f"{self.letters(2)}{self.digits(6)}", f"MR-{self.digits(7)}"]
        )

    def HEALTH_PLAN(self) -> str:
        return self.r.choice(
            [
                f"{self.letters(3)}{self.digits(9)}",
                f"W{self.digits(8)}",
                f"{self.digits(3)}-{self.digits(6)}-{self.digits(2)}",
            ]
        )

    def ACCOUNT(self) -> str:
        return self.r.choice([self.digits(10), f"A{self.digits(8)}", f"{self.digits(4)}-{self.digits(6)}"])

    def LICENSE(self) -> str:
        return self.r.choice(
            [
                f"{self.letters(1)}{self.digits(7)}",
                f"{self.letters(2)}{self.digits(7)}",
                f"MD{self.digits(6)}",
                self.digits(10),
            ]
        )

    def VIN(self) -> str:
        body = [self.r.choice(VIN_CHARS) for _ in range(17)]
        body[0] = self.r.choice("123456789")
        weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
        values = {**{str(d): d for d in range(10)}, **dict(zip("ABCDEFGH", range(1, 9), strict=True))}
        values.update(dict(zip("JKLMN", range(1, 6), strict=True)) | {"P": 7, "R": 9})
        values.update(dict(zip("STUVWXYZ", range(2, 10), strict=True)))
        check = sum(values[c] * w for c, w in zip(body, weights, strict=True)) % 11
        body[8] = "X" if check == 10 else str(check)
        return "".join(body)

    def PLATE(self) -> str:
        return self.r.choice(
            [
                f"{self.digits(1)}{self.letters(3)}{self.digits(3)}",
                f"{self.letters(3)}-{self.digits(4)}",
                f"{self.letters(2)} {self.digits(4)}",
            ]
        )

    def DEVICE(self) -> str:
        return self.r.choice(
            [
                f"{self.letters(3)}{self.digits(7)}",
                f"SN{self.digits(9)}",
                f"{self.digits(4)}-{self.letters(2)}-{self.digits(4)}",
            ]
        )

    def URL(self) -> str:
        slug = "".join(self.r.choice(string.ascii_lowercase) for _ in range(6))
        return self.r.choice(
            [
                f"https://www.{slug}.com/profile/{self.digits(5)}",
                f"http://{slug}.org/{slug}",
                f"www.{slug}.net",
                f"https://portal.{slug}.health/p?id={self.digits(6)}",
            ]
        )

    def IP(self) -> str:
        return ".".join(str(self.r.randint(1, 254)) for _ in range(4))


def _render(template: str, values: _Values) -> tuple[str, list[tuple[PhiKind, int, int]]]:
    planted_as = {"SURNAME": PhiKind.NAME, "GIVEN": PhiKind.NAME, "VIN": PhiKind.VEHICLE, "PLATE": PhiKind.VEHICLE}
    out, spans, pos = [], [], 0
    for literal, slot in _split(template):
        out.append(literal)
        pos += len(literal)
        if slot is None:
            continue
        if slot == "AGE_NUM":
            value, kind = str(values.r.randint(90, 108)), PhiKind.AGE
        else:
            value = getattr(values, slot)()
            kind = planted_as.get(slot) or PhiKind(slot)
        out.append(value)
        spans.append((kind, pos, pos + len(value)))
        pos += len(value)
    return "".join(out), spans


def _split(template: str) -> Iterable[tuple[str, str | None]]:
    rest = template
    while "{" in rest:
        before, after = rest.split("{", 1)
        slot, rest = after.split("}", 1)
        yield before, slot
    yield rest, None


def phi_corpus(*, seed: int = 20261122, with_phi: int = 510, without_phi: int = 500) -> list[CorpusText]:
    """`with_phi` texts that plant identifiers (every kind in turn) and `without_phi` clean ones."""
    if with_phi < 0 or without_phi < 0:
        raise ValueError(f"corpus sizes must not be negative (with_phi={with_phi}, without_phi={without_phi})")
    rng = random.Random(seed)
    values = _Values(rng)
    kinds = list(TEMPLATES)
    texts: list[CorpusText] = []
    for index in range(with_phi):
        chosen = [kinds[index % len(kinds)], *rng.sample(kinds, rng.randint(0, 2))]
        pieces = [rng.choice(TEMPLATES[kind]) for kind in chosen] + rng.sample(CLEAN_SENTENCES, rng.randint(1, 3))
        rng.shuffle(pieces)
        text, planted = "", []
        for piece in pieces:
            rendered, spans = _render(piece, values)
            offset = len(text) + (1 if text else 0)
            text = f"{text} {rendered}" if text else rendered
            planted += [Planted(kind, start + offset, end + offset) for kind, start, end in spans]
        texts.append(CorpusText(text, tuple(planted)))
    for _ in range(without_phi):
        texts.append(CorpusText(" ".join(rng.sample(CLEAN_SENTENCES, rng.randint(2, 5)))))
    return texts


def corpus_score(texts: list[CorpusText], scan: Callable[[str], list[Finding]]) -> CorpusScores:
    """Recall per kind (a planted span found by a finding of its kind) and overall precision.

    A finding is a true positive when it overlaps any planted span, of whatever kind: it
    redacts PHI either way, and the per-kind recall already holds the kinds to account.
    """
    found: dict[PhiKind, int] = dict.fromkeys(PhiKind, 0)
    planted: dict[PhiKind, int] = dict.fromkeys(PhiKind, 0)
    true_positives = total = 0
    false_positives, missed = [], []
    for item in texts:
        findings = scan(item.text)
        for p in item.planted:
            planted[p.kind] += 1
            if any(f.kind == p.kind and f.start < p.end and p.start < f.end for f in findings):
                found[p.kind] += 1
            else:
                missed.append((item.text, p))
        for f in findings:
            total += 1
            if any(f.start < p.end and p.start < f.end for p in item.planted):
                true_positives += 1
            else:
                false_positives.append((item.text, f))
    recall = {kind: found[kind] / planted[kind] for kind in PhiKind if planted[kind]}
    precision = true_positives / total if total else 1.0
    return CorpusScores(recall, planted, precision, total, false_positives, missed)
