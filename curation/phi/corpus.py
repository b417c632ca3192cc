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

from .recognizers import DATA_DIR, PhiKind
from .scanner import Finding


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


# Sentences carrying one or two identifiers: {KIND} is planted as that kind; {SURNAME}, {GIVEN},
# {VIN} and {PLATE} are planted as NAME, NAME, VEHICLE, VEHICLE.
TEMPLATES: dict[PhiKind, list[str]] = {
    PhiKind.NAME: [
        "Patient {NAME} presented with chest pain radiating to the left arm.",
        "Mr. {SURNAME} tolerated the procedure well.",
        "Mrs. {SURNAME} reports improved sleep on the new regimen.",
        "Seen today with his daughter {NAME}, who manages his medications.",
        "{NAME} was admitted for community-acquired pneumonia.",
        "Discussed the plan with Dr. {SURNAME} from cardiology.",
        "The patient, named {GIVEN}, prefers to be addressed by her first name.",
        "Name: {NAME}",
        "Next of kin: {NAME} (wife).",
        "Consult note signed by {NAME}, MD.",
        "Ms. {NAME} denies fever or chills.",
        "{GIVEN} has been adherent to insulin since the last visit.",
    ],
    PhiKind.ADDRESS: [
        "Home address: {ADDRESS}.",
        "She lives at {ADDRESS} with her husband.",
        "Home health visits scheduled at {ADDRESS}.",
        "Discharged home to {ADDRESS}; stairs at entrance.",
    ],
    PhiKind.ZIP: [
        "Lives alone in Springfield, IL {ZIP}.",
        "Mailing address ZIP code {ZIP}.",
        "Transferred from a facility in Columbus, OH {ZIP}.",
        "Zip: {ZIP}; county of residence noted on intake.",
    ],
    PhiKind.DATE: [
        "DOB: {DATE}.",
        "Admitted on {DATE} for a COPD exacerbation.",
        "She was born on {DATE} and has had asthma since childhood.",
        "Last colonoscopy {DATE} showed two small polyps.",
        "Discharged on {DATE} on oral antibiotics.",
        "Date of surgery: {DATE}.",
        "Seen in clinic {DATE}; HbA1c was 8.1%.",
    ],
    PhiKind.AGE: [
        "A {AGE} woman with atrial fibrillation on apixaban.",
        "The patient is a {AGE} man with dementia.",
        "Age: {AGE_NUM}.",
        "{AGE} male presenting after a fall at home.",
        "Now aged {AGE_NUM}, she remains independent with walking.",
    ],
    PhiKind.PHONE: [
        "Call back number {PHONE}.",
        "Daughter can be reached at {PHONE}.",
        "Phone: {PHONE}",
        "Pharmacy called from {PHONE} about the refill.",
    ],
    PhiKind.FAX: [
        "Please fax records to {FAX}.",
        "Fax: {FAX}",
        "Referral faxed to the clinic at fax number {FAX}.",
    ],
    PhiKind.EMAIL: [
        "Patient portal email {EMAIL}.",
        "Results sent to {EMAIL} at the patient's request.",
        "Contact: {EMAIL}",
    ],
    PhiKind.SSN: [
        "SSN: {SSN}",
        "Social security number {SSN} verified at registration.",
        "Insurance form lists SSN {SSN}.",
    ],
    PhiKind.MRN: [
        "MRN: {MRN}",
        "Medical record number {MRN}.",
        "Chart reviewed (MRN {MRN}) before the visit.",
        "Hospital number: {MRN}",
    ],
    PhiKind.HEALTH_PLAN: [
        "Member ID: {HEALTH_PLAN}",
        "Insurance policy number {HEALTH_PLAN} on file.",
        "Medicaid ID {HEALTH_PLAN}, coverage active.",
        "Health plan beneficiary number: {HEALTH_PLAN}.",
        "Subscriber ID {HEALTH_PLAN} confirmed with the payer.",
    ],
    PhiKind.ACCOUNT: [
        "Account number {ACCOUNT}.",
        "Billing account: {ACCOUNT}",
        "Acct # {ACCOUNT} has an outstanding balance.",
        "Encounter number {ACCOUNT} for this admission.",
    ],
    PhiKind.LICENSE: [
        "Driver's license {LICENSE} scanned at check-in.",
        "Prescriber DEA number {LICENSE}.",
        "Medical license number: {LICENSE}.",
        "Death certificate number {LICENSE} filed with the county.",
    ],
    PhiKind.VEHICLE: [
        "Involved vehicle VIN {VIN}, per the police report.",
        "License plate {PLATE} noted by EMS at the scene.",
        "Car registration plate {PLATE}; driver was restrained.",
        "Vehicle identification number: {VIN}.",
    ],
    PhiKind.DEVICE: [
        "Pacemaker serial number {DEVICE} checked at interrogation.",
        "Insulin pump S/N {DEVICE}.",
        "Implanted device ID: {DEVICE}.",
        "CPAP machine serial {DEVICE} replaced under warranty.",
    ],
    PhiKind.URL: [
        "Her blog at {URL} describes the diagnosis.",
        "Uploaded photos to {URL}.",
        "Personal fundraising page: {URL}",
    ],
    PhiKind.IP: [
        "Telehealth session logged from IP address {IP}.",
        "Portal login from {IP} flagged by security.",
    ],
}

# Clinical prose with no identifier, written to tempt a careless scanner.
CLEAN_SENTENCES = [
    "Metformin 500 mg twice daily was continued.",
    "Started lisinopril 10 mg daily; recheck potassium in 2 weeks.",
    "History of Parkinson's disease, on carbidopa-levodopa 25/100 three times daily.",
    "Known Crohn's disease with ileal involvement, last flare in 2019.",
    "Wilson's disease was excluded with a normal ceruloplasmin.",
    "Graves' disease treated with radioactive iodine in 2008.",
    "Hodgkin lymphoma in remission since 2015.",
    "Cushing syndrome screening with late-night salivary cortisol was negative.",
    "Bell's palsy on the right, improving with prednisone 60 mg.",
    "Down syndrome with a history of AV canal repair in infancy.",
    "Stevens-Johnson syndrome after lamotrigine in 2012.",
    "Alzheimer's dementia, MMSE 21/30.",
    "Huntington's disease in the family, genetic counselling offered.",
    "Addison's disease on hydrocortisone 15 mg in divided doses.",
    "Hashimoto's thyroiditis, TSH 4.2 mIU/L on levothyroxine 75 mcg.",
    "Guillain-Barre syndrome in 2017 with full recovery.",
    "Barrett's esophagus on surveillance endoscopy every 3 years.",
    "Murphy's sign negative; Rovsing sign negative.",
    "Glasgow Coma Scale 15, Apgar scores 8 and 9.",
    "BP 128/76, HR 88, RR 16, SpO2 97% on room air.",
    "Pain 7/10 at rest, 9/10 with movement.",
    "WBC 11.2, hemoglobin 10.4 g/dL, platelets 250,000.",
    "INR 2.5 on warfarin 5 mg; target range 2-3.",
    "HbA1c 7.2% in 2023, down from 8.9% in 2021.",
    "Creatinine 1.3 mg/dL, eGFR 54 mL/min/1.73m2.",
    "A 45-year-old man with type 2 diabetes and hypertension.",
    "The patient is a 67 year old woman with COPD, GOLD stage 3.",
    "Age 89 at diagnosis of prostate cancer, Gleason 3+4.",
    "An 8-year-old with asthma, using albuterol 2 puffs q4h as needed.",
    "She is 72 years old and lives independently.",
    "Smoked 1 pack per day for 30 years, quit in 2010.",
    "ICD-10 E11.9, CPT 99213 for this visit.",
    "NDC 0002-8215-01 dispensed for the insulin pen.",
    "Ejection fraction 35-40% on echocardiogram.",
    "Follow up in 3 months with repeat lipid panel.",
    "Vitamin D 25-OH 32 ng/mL, continue 2000 IU daily.",
    "Stage IIIA non-small cell lung cancer, T2N2M0.",
    "BRCA1 negative; COVID-19 vaccinated in 2021.",
    "Amoxicillin 875 mg every 12 hours for 10 days.",
    "Heparin 5000 units subcutaneously every 8 hours.",
    "Troponin 0.04 ng/mL, repeat in 6 hours was 0.03.",
    "Serum sodium 134 mmol/L, potassium 4.1 mmol/L.",
    "Ferritin 12 ng/mL, consistent with iron deficiency.",
    "Weight 82.5 kg, BMI 27.4, height 174 cm.",
    "The patient denies chest pain, dyspnea, or palpitations.",
    "Patient education on inhaler technique was provided.",
    "Plan: continue current medications and review in 6 weeks.",
    "Group A streptococcus rapid test was negative.",
    "Received 2 units of packed red blood cells.",
    "Diagnosed with rheumatoid arthritis in the 1990s.",
    "Take 1/2 tablet of furosemide 40 mg on Mondays.",
    "Aspirin 81 mg; clopidogrel 75 mg for 12 months after stenting.",
    "Morphine 2-4 mg IV every 4 hours as needed for pain.",
    "Fasting glucose 126 mg/dL on 2 occasions.",
    "QTc 452 ms on the ECG, sinus rhythm at 72 bpm.",
    "Account taken of renal function when dosing vancomycin.",
    "The care plan was reviewed with the family at the bedside.",
    "Tanner stage 4; growth along the 50th percentile.",
    "Hepatitis B surface antigen negative, anti-HBs 120 mIU/mL.",
    "Lumbar puncture opening pressure 22 cm H2O.",
    "Trial of CPAP at 10 cm H2O for obstructive sleep apnea.",
    "Sertraline increased from 50 mg to 100 mg daily.",
    "Colonoscopy recommended every 10 years from age 45.",
    "Meets 4 of 11 criteria for lupus by the ACR classification.",
    "PHQ-9 score 14, GAD-7 score 9.",
    "In 2020 she had a hip replacement, now walks with a cane.",
    "Lot-to-lot variation in the assay was within 5%.",
    "Apixaban 5 mg twice daily for atrial fibrillation, CHA2DS2-VASc 4.",
    "Tylenol 650 mg every 6 hours, maximum 3 g per day.",
    "Levels drawn at 0600 and 1800 hours.",
    "Oxygen titrated from 4 L to 2 L by nasal cannula.",
    "Ankle-brachial index 0.78 on the left.",
    "Gram stain showed gram-positive cocci in clusters.",
    "Cervical spine C5-C6 disc herniation on MRI.",
    "Over 90% of patients respond to the first course.",
    "PSA rose from 4.1 to 6.3 ng/mL over 12 months.",
    "Seen by the Parkinson's nurse specialist.",
    "Mother with Alzheimer's disease; father died of colon cancer at age 72.",
    "Referred by Cardiology for Holter monitoring.",
    "Seen by Physical Therapy on the ward.",
    "Attending: Internal Medicine. Signed by Hospitalist Service.",
    "Patient Tylenol allergy noted; Patient Education completed.",
    "Wolff-Parkinson-White pattern on the ECG; tetralogy of Fallot repaired.",
    "Epstein-Barr virus serology positive; Kaposi sarcoma excluded.",
    "Meniere's disease and Raynaud phenomenon, both stable.",
    "Call 911 if symptoms worsen.",
    "Cycle 3 of 6 given on day 15; repeat labs in 24-48 hours.",
    "Weight 90 kg, temperature 99.1 F, systolic 95 mmHg, saturation 92%.",
    "The 90-day supply was dispensed.",
    "Medicare eligible next year; Group B strep positive.",
    "Serial troponins negative, serial ECGs unchanged.",
    "Visit 2 of the study; account for insensible losses of 500 mL.",
]


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
