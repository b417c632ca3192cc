"""The PHI scanner finds the Safe Harbor identifiers of clinical text and leaves clinical facts alone."""

import itertools
import socket

import pytest
from presidio_analyzer.nlp_engine import NoOpNlpEngine

from curation.phi import SCANNER_VERSION, Finding, PhiKind, phi_recognizers, phi_redact, phi_scan, scanner
from curation.phi.corpus import corpus_score, phi_corpus
from curation.phi.scanner import NLP_CONFIG_ENV, phi_engine, phi_engine_reset


@pytest.fixture
def fresh_engine():
    """A test that changes what the engine reads at build time leaves a fresh one behind."""
    phi_engine_reset()
    yield
    phi_engine_reset()


def spans(text: str) -> list[tuple[str, str]]:
    return [(f.kind.value, text[f.start : f.end]) for f in phi_scan(text)]


@pytest.fixture(scope="module")
def corpus():
    return phi_corpus()


def test_corpus_plants_every_kind_in_500_texts_and_has_500_clean_ones(corpus):
    with_phi = [t for t in corpus if t.planted]
    without = [t for t in corpus if not t.planted]
    assert len(with_phi) >= 500 and len(without) >= 500
    planted_kinds = {p.kind for t in with_phi for p in t.planted}
    assert planted_kinds == set(PhiKind)
    assert all(t.text[p.start : p.end].strip() == t.text[p.start : p.end] for t in with_phi for p in t.planted)


def test_corpus_is_the_same_for_the_same_seed_and_differs_for_another(corpus):
    assert phi_corpus() == corpus
    assert phi_corpus(seed=1) != corpus


def test_every_kind_is_recalled_at_least_95_percent_on_the_planted_corpus(corpus):
    scores = corpus_score(corpus, phi_scan)
    below = {kind.value: round(recall, 3) for kind, recall in scores.recall.items() if recall < 0.95}
    assert set(scores.recall) == set(PhiKind)
    assert below == {}, scores.missed[:5]


def test_precision_over_the_whole_corpus_is_at_least_80_percent(corpus):
    scores = corpus_score(corpus, phi_scan)
    assert scores.findings > 1000
    assert scores.precision >= 0.80, scores.false_positives[:5]


def test_targets_hold_on_a_corpus_drawn_with_another_seed():
    scores = corpus_score(phi_corpus(seed=99, with_phi=200, without_phi=200), phi_scan)
    assert min(scores.recall.values()) >= 0.95
    assert scores.precision >= 0.80


@pytest.mark.parametrize(
    ("text", "kind", "identifier"),
    [
        ("Mr. Okonkwo was reviewed on the ward round.", "NAME", "Okonkwo"),
        ("Patient Anna Kowalski reports less dyspnea.", "NAME", "Anna Kowalski"),
        ("Emergency contact: daughter Priya Sharma.", "NAME", "Priya Sharma"),
        ("Name: Garcia, Maria", "NAME", "Garcia, Maria"),
        ("Seen with Thomas O'Brien in clinic.", "NAME", "Thomas O'Brien"),
        ("Lives at 742 Evergreen Terrace with two cats.", "ADDRESS", "742 Evergreen Terrace"),
        ("Mail to P.O. Box 1123 please.", "ADDRESS", "P.O. Box 1123"),
        ("Moved to Portland, OR 97205 last year.", "ZIP", "97205"),
        ("DOB: 04/17/1942", "DATE", "04/17/1942"),
        ("Admitted on March 3, 2024 for sepsis.", "DATE", "March 3, 2024"),
        ("Born on 12 June 1950.", "DATE", "12 June 1950"),
        ("Surgery on 2023-11-05 was uneventful.", "DATE", "2023-11-05"),
        ("Seen on 3/14 for follow-up.", "DATE", "3/14"),
        ("A 94-year-old woman with a hip fracture.", "AGE", "94-year-old"),
        ("Age: 101", "AGE", "101"),
        ("Call her at (617) 555-0182 after 5 pm.", "PHONE", "(617) 555-0182"),
        ("Fax: 617-555-0199", "FAX", "617-555-0199"),
        ("Write to j.doe@example.org for records.", "EMAIL", "j.doe@example.org"),
        ("SSN 078-05-1120 on the form.", "SSN", "078-05-1120"),
        ("MRN: 00482913", "MRN", "00482913"),
        ("Medicare beneficiary identifier 1EG4-TE5-MK73 on file.", "HEALTH_PLAN", "1EG4-TE5-MK73"),
        ("Member ID: XJH882910045", "HEALTH_PLAN", "XJH882910045"),
        ("Account number 4417-220198 is overdue.", "ACCOUNT", "4417-220198"),
        ("Paid with card 4111 1111 1111 1111.", "ACCOUNT", "4111 1111 1111 1111"),
        ("Prescriber DEA number AB1234563.", "LICENSE", "AB1234563"),
        ("VIN 1HGCM82633A004352 per the crash report.", "VEHICLE", "1HGCM82633A004352"),
        ("License plate 7ABC123 noted by EMS.", "VEHICLE", "7ABC123"),
        ("Pacemaker serial number PJN4455667.", "DEVICE", "PJN4455667"),
        ("Her page https://www.example.com/u/88231 has photos.", "URL", "https://www.example.com/u/88231"),
        ("Login from 10.24.8.201 at night.", "IP", "10.24.8.201"),
    ],
)
def test_identifier_of_each_kind_is_found_with_its_span(text, kind, identifier):
    assert (kind, identifier) in spans(text)


@pytest.mark.parametrize(
    "text",
    [
        "History of Parkinson's disease on carbidopa-levodopa 25/100.",
        "Crohn's disease, last flare in 2019; Wilson's disease excluded.",
        "Stevens-Johnson syndrome after lamotrigine; Graves' disease in remission.",
        "Metformin 500 mg twice daily, HbA1c 7.2%, BP 128/76, pain 7/10.",
        "A 45-year-old man; she is 89 years old; aged 72.",
        "NDC 0002-8215-01 dispensed; ICD-10 E11.9.",
        "Referred by Cardiology; signed by Hospitalist Service.",
        "Weight 90 kg, systolic 95 mmHg, the 90-day supply.",
        "Diagnosed in 1998 and treated again in 2015.",
    ],
)
def test_clinical_facts_that_look_like_identifiers_are_not_findings(text):
    assert spans(text) == []


def test_findings_carry_kind_span_score_and_recognizer_and_do_not_overlap():
    text = "Mrs. Wilson, DOB 01/02/1930, MRN 5566778, phone 555-201-3344."
    findings = phi_scan(text)
    assert [f.kind for f in findings] == [PhiKind.NAME, PhiKind.DATE, PhiKind.MRN, PhiKind.PHONE]
    assert all(isinstance(f, Finding) and 0.5 <= f.score <= 1 and f.recognizer.endswith("Recognizer") for f in findings)
    assert all(a.end <= b.start for a, b in itertools.pairwise(findings))


def test_redaction_replaces_each_finding_with_its_kind_in_brackets():
    text = "Mr. John Smith, DOB 03/14/1931, email john@example.com, has Parkinson's disease."
    assert phi_redact(text, phi_scan(text)) == "Mr. [NAME], DOB [DATE], email [EMAIL], has Parkinson's disease."


def test_redaction_without_findings_returns_the_text_unchanged():
    assert phi_redact("No identifiers here.", []) == "No identifiers here."


def test_redaction_rejects_a_finding_outside_the_text_naming_it():
    with pytest.raises(ValueError, match=r"finding 0 \(DATE at 5-40\) lies outside the text of 10 characters"):
        phi_redact("0123456789", [Finding(PhiKind.DATE, 5, 40, 0.9, "DateRecognizer")])


def test_scan_rejects_what_is_not_text():
    with pytest.raises(TypeError, match="phi_scan needs a str, got bytes"):
        phi_scan(b"DOB 01/02/1930")


def test_default_engine_loads_no_model_and_opens_no_connection(fresh_engine, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the PHI scanner tried to open a network connection")

    monkeypatch.delenv(NLP_CONFIG_ENV, raising=False)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert spans("Email a.b@example.com, DOB 01/02/1930.") == [("EMAIL", "a.b@example.com"), ("DATE", "01/02/1930")]
    assert isinstance(phi_engine().nlp_engine, NoOpNlpEngine)


def test_an_nlp_configuration_that_is_not_a_file_is_named_in_the_error(fresh_engine, monkeypatch, tmp_path):
    missing = tmp_path / "spacy.yaml"
    monkeypatch.setenv(NLP_CONFIG_ENV, str(missing))
    with pytest.raises(ValueError, match=f"PHI NLP configuration {missing} .* is not a file"):
        phi_scan("DOB 01/02/1930")


def test_operator_name_list_extends_the_shipped_one(fresh_engine, monkeypatch, tmp_path):
    text = "Zephyrine Quillfeather attended with her son."
    assert ("NAME", "Zephyrine Quillfeather") not in spans(text)
    extra = tmp_path / "clinic_given_names.txt"
    extra.write_text("# local names\nZephyrine\n")
    monkeypatch.setenv("CONCORD_PHI_NAME_FILES", str(extra))
    phi_engine_reset()
    assert ("NAME", "Zephyrine Quillfeather") in spans(text)


def test_an_operator_name_list_must_say_which_list_it_extends(fresh_engine, monkeypatch, tmp_path):
    extra = tmp_path / "names.txt"
    extra.write_text("Zephyrine\n")
    monkeypatch.setenv("CONCORD_PHI_NAME_FILES", str(extra))
    with pytest.raises(ValueError, match=f"PHI name list {extra}: the file name must end in given_names.txt"):
        phi_scan("Zephyrine")


def test_recognizers_are_listed_with_version_for_every_kind():
    rows = phi_recognizers()
    covered = {kind for row in rows for kind in row["kinds"].split(", ")}
    assert covered == {kind.value for kind in PhiKind}
    assert all(row["name"] and row["version"] for row in rows)
    assert SCANNER_VERSION.count(".") == 2


def test_the_recognizers_listed_without_an_engine_are_the_engines_own(fresh_engine):
    listed = phi_recognizers()
    assert scanner._engine is None  # a release card lists them without loading Presidio
    assert listed == scanner._engine_recognizers()


def test_with_an_nlp_model_the_recognizers_are_read_off_the_engine(fresh_engine, monkeypatch):
    model_recognizer = {"name": "SpacyRecognizer", "version": "0.0.1", "kinds": "ADDRESS, NAME"}
    monkeypatch.setattr(scanner, "nlp_config_path", lambda: "spacy.yaml")
    monkeypatch.setattr(scanner, "_engine_recognizers", lambda: [model_recognizer])
    assert phi_recognizers() == [model_recognizer]
