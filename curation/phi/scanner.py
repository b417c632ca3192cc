"""Find and redact protected health information in free text with Presidio.

By default the analyzer runs in pattern mode: Presidio's no-op NLP engine, which loads no model
and downloads nothing, and the recognizers of `curation.phi.recognizers`. An operator who has a
spaCy or transformers model installed can add its named-entity recognizer through the
PHI_NLP_CONFIG setting or the CONCORD_PHI_NLP_CONFIG environment variable (docs/phi.md).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curation.phi.kinds import PRESIDIO_KINDS, PhiKind

SCANNER_VERSION = "1.0.0"
NLP_CONFIG_ENV = "CONCORD_PHI_NLP_CONFIG"
SCORE_THRESHOLD = 0.5
# What a model's named entities count as; the others (NRP, DATE_TIME with lone years) are dropped.
NLP_ENTITY_KINDS = {"PERSON": PhiKind.NAME, "PER": PhiKind.NAME, "LOCATION": PhiKind.ADDRESS}


@dataclass(frozen=True, slots=True)
class Finding:
    kind: PhiKind
    start: int
    end: int
    score: float
    recognizer: str


# The recognizers of pattern mode (curation.phi.catalogue.build_recognizers) as phi_recognizers lists them:
# (name, version, kinds). Written out because a release card lists them and a release build scans nothing:
# building the engine only to read these names imported Presidio and spaCy, seconds and some 70 MB in a
# worker's process. tests/curation/test_phi_scanner.py checks the list against the engine's own.
PATTERN_RECOGNIZERS = (
    ("NameRecognizer", "1", "NAME"),
    ("StreetAddressRecognizer", "1", "ADDRESS"),
    ("ZipCodeRecognizer", "1", "ZIP"),
    ("DateRecognizer", "1", "DATE"),
    ("AgeOver89Recognizer", "1", "AGE"),
    ("PhoneFaxRecognizer", "1", "FAX, PHONE"),
    ("EmailRecognizer", "1", "EMAIL"),
    ("SsnRecognizer", "1", "SSN"),
    ("MedicalRecordNumberRecognizer", "1", "MRN"),
    ("HealthPlanRecognizer", "1", "HEALTH_PLAN"),
    ("AccountNumberRecognizer", "1", "ACCOUNT"),
    ("CardNumberRecognizer", "0.0.1", "ACCOUNT"),
    ("LicenseCertificateRecognizer", "1", "LICENSE"),
    ("VehicleIdentifierRecognizer", "1", "VEHICLE"),
    ("DeviceIdentifierRecognizer", "1", "DEVICE"),
    ("UrlRecognizer", "1", "URL"),
    ("IpAddressRecognizer", "0.0.1", "IP"),
)

_engine: Any = None
_engine_lock = threading.Lock()


def nlp_config_path() -> Path | None:
    """The operator's Presidio NLP configuration file, read when the engine is first built."""
    configured = None
    try:
        from django.conf import settings

        if settings.configured:
            configured = getattr(settings, "PHI_NLP_CONFIG", None)
    except ImportError:  # the scanner also runs outside Django
        configured = None
    configured = configured or os.environ.get(NLP_CONFIG_ENV) or None
    if configured is None:
        return None
    path = Path(configured)
    if not path.is_file():
        raise ValueError(f"PHI NLP configuration {path} (PHI_NLP_CONFIG / {NLP_CONFIG_ENV}) is not a file")
    return path


def _build_engine() -> Any:
    # Presidio logs at INFO on import ("Using device of type: cpu") and on every analyze call ("Fetching all
    # recognizers"): noise in a worker's log.
    logging.getLogger("presidio-analyzer").setLevel(logging.WARNING)
    # Presidio (and spaCy under it) take seconds to import: only a scan pays for them, not every process start.
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider, NoOpNlpEngine

    from curation.phi.catalogue import build_recognizers

    config = nlp_config_path()
    registry = RecognizerRegistry(recognizers=build_recognizers(), supported_languages=["en"])
    if config is None:
        nlp_engine = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    else:
        nlp_engine = NlpEngineProvider(conf_file=str(config)).create_engine()
        registry.add_nlp_recognizer(nlp_engine=nlp_engine)
    # Both the registry and the NLP engine are given, so Presidio never builds its spaCy default.
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])


def phi_engine() -> Any:
    """The module's AnalyzerEngine, built on first use and shared by every later scan."""
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                _engine = _build_engine()
    return _engine


def phi_engine_reset() -> None:
    """Forget the engine so the next scan reads the settings and name lists again."""
    global _engine
    with _engine_lock:
        _engine = None


def phi_recognizers() -> list[dict[str, str]]:
    """Name, version and kinds of each recognizer in use, for a release card.

    In pattern mode the list is PATTERN_RECOGNIZERS and no engine is built; with an NLP model configured
    it is read off the engine, which holds the model's recognizer too.
    """
    if nlp_config_path() is None:
        return [{"name": name, "version": version, "kinds": kinds} for name, version, kinds in PATTERN_RECOGNIZERS]
    return _engine_recognizers()


def _engine_recognizers() -> list[dict[str, str]]:
    rows = []
    for recognizer in phi_engine().registry.recognizers:
        kinds = sorted({_kind_of(entity).value for entity in recognizer.supported_entities if _kind_of(entity)})
        rows.append({"name": recognizer.name, "version": str(recognizer.version), "kinds": ", ".join(kinds)})
    return rows


def _kind_of(entity: str) -> PhiKind | None:
    return PRESIDIO_KINDS.get(entity) or NLP_ENTITY_KINDS.get(entity)


def phi_scan(text: str) -> list[Finding]:
    """Findings in `text`, ordered by position; overlapping findings keep the strongest one."""
    if not isinstance(text, str):
        raise TypeError(f"phi_scan needs a str, got {type(text).__name__}")
    if not text.strip():
        return []
    results = phi_engine().analyze(text=text, language="en", score_threshold=SCORE_THRESHOLD)
    candidates = []
    for result in results:
        kind = _kind_of(result.entity_type)
        if kind is None:
            continue
        name = (result.recognition_metadata or {}).get("recognizer_name", "unknown")
        candidates.append(Finding(kind, result.start, result.end, round(float(result.score), 3), name))
    # Strongest first, then longest: a full "John Smith" beats "John", a DOB date beats a phone guess.
    candidates.sort(key=lambda f: (-f.score, -(f.end - f.start), f.start))
    kept: list[Finding] = []
    for finding in candidates:
        if all(finding.end <= k.start or finding.start >= k.end for k in kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: f.start)


def phi_redact(text: str, findings: list[Finding]) -> str:
    """`text` with each finding replaced by its kind in brackets, like "[DATE]" or "[NAME]"."""
    from presidio_anonymizer import AnonymizerEngine
    from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

    if not isinstance(text, str):
        raise TypeError(f"phi_redact needs a str, got {type(text).__name__}")
    results = []
    for index, finding in enumerate(findings):
        if not 0 <= finding.start < finding.end <= len(text):
            raise ValueError(
                f"finding {index} ({finding.kind} at {finding.start}-{finding.end}) lies outside the text "
                f"of {len(text)} characters"
            )
        results.append(RecognizerResult(finding.kind.value, finding.start, finding.end, finding.score))
    if not results:
        return text
    operators = {kind.value: OperatorConfig("replace", {"new_value": f"[{kind.value}]"}) for kind in PhiKind}
    return _anonymizer(AnonymizerEngine).anonymize(text=text, analyzer_results=results, operators=operators).text


_anonymizer_instance: Any = None


def _anonymizer(factory: Any) -> Any:
    global _anonymizer_instance
    if _anonymizer_instance is None:
        _anonymizer_instance = factory()
    return _anonymizer_instance
