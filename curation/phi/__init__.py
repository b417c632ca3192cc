"""Protected health information: find the Safe Harbor identifiers in free text and redact them."""

from curation.phi.kinds import PhiKind
from curation.phi.scanner import SCANNER_VERSION, Finding, phi_recognizers, phi_redact, phi_scan

__all__ = ["SCANNER_VERSION", "Finding", "PhiKind", "phi_recognizers", "phi_redact", "phi_scan"]
