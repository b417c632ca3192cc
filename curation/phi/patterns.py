"""The pattern vocabulary the recognizers share (months, states, street suffixes, name tokens) and the
checks that tell a real identifier from a look-alike."""

from __future__ import annotations

import regex

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
EPONYM_AFTER = regex.compile(r"(?:" + APOS + r"s?)?(?:\s*-\s*" + NAME_TOKEN + r")*\s+" + EPONYM_WORDS + r"\b", ICASE)
POSSESSIVE_ALONE = regex.compile(APOS + r"s?(?!\w)")

# Capitalised words that follow "patient", "son" and similar context words without being names.
STOPWORD_TEXT = """
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
STOPWORDS = frozenset(STOPWORD_TEXT.split())
# Specialties and roles ("referred by Cardiology", "signed by Hospitalist") are not people.
NOT_A_NAME_ENDING = ("ology", "iatry", "iatrics", "ics", "ist", "ery")


def valid_numeric_date(match: regex.Match, text: str) -> bool:
    a, b = int(match.group("a")), int(match.group("b"))
    return (1 <= a <= 12 and 1 <= b <= 31) or (1 <= b <= 12 and 1 <= a <= 31)


def vin_check_digit_ok(vin: str) -> bool:
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


def vin_valid(match: regex.Match, text: str) -> bool:
    vin = match.group("phi")
    digits = sum(c.isdigit() for c in vin)
    if not any(c.isalpha() for c in vin) or digits == 0:
        return False
    # Without "VIN" before it, only a 17-character code whose check digit holds is taken for one.
    return bool(match.group("ctx")) or (digits >= 3 and vin_check_digit_ok(vin))


def id_context(words: str) -> str:
    return r"\b(?:" + words + r")\b" + ID_GAP + r"(?P<phi>" + ID_VALUE + r")"
