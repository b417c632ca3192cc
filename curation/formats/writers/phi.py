"""The release card's section on the PHI scan, from the report curation.selectors.phi gives the manifest."""

from collections.abc import Mapping
from typing import Any

STATES = (("open", "open"), ("cleared", "cleared as not PHI"), ("redacted", "redacted"))


def phi_card_section(report: Mapping[str, Any] | None) -> list[str]:
    """Markdown lines: the scanner, texts scanned, findings by kind and decision, and the redactions by item."""
    if not report:
        return []
    kinds = report["findings_by_kind"]
    totals = {state: sum(counts.get(state, 0) for counts in kinds.values()) for state, _ in STATES}
    recognizers = ", ".join(f"{r['name']} {r['version']}" for r in report["recognizers"]) or "none"
    lines = [
        "## Protected health information",
        "",
        f"- Scanner: Concord PHI scanner {report['scanner_version']} (Presidio, HIPAA Safe Harbor identifiers); "
        f"recognizers: {recognizers}.",
        f"- Texts scanned in the project: {report['texts_scanned']}"
        + (
            " (by scanner version: "
            + ", ".join(f"{version}: {n}" for version, n in report["scanned_by_version"].items())
            + ")"
            if len(report["scanned_by_version"]) > 1
            else ""
        )
        + ".",
        f"- Findings: {sum(totals.values())}; cleared by a curator as false positives: {totals['cleared']}; "
        f"redacted: {totals['redacted']}; still open (their items are not in this release): {totals['open']}.",
        "- No item with an open finding, or whose texts were not scanned as they are now, is in this release.",
        "",
        "| kind | " + " | ".join(label for _, label in STATES) + " |",
        "| --- | " + " | ".join("---:" for _ in STATES) + " |",
        *(
            f"| {kind} | " + " | ".join(str(counts.get(state, 0)) for state, _ in STATES) + " |"
            for kind, counts in kinds.items()
        ),
    ]
    if not kinds:
        lines.append("| (none) | 0 | 0 | 0 |")
    lines += ["", "### Redactions by item", ""]
    if report["redactions"]:
        lines += ["| item | in | field | revision | replaced by |", "| --- | --- | --- | ---: | --- |"]
        lines += [
            f"| {_item(row)} | {row['in']} | `{row['field']}` | {row['revision']} | `{row['placeholder']}` |"
            for row in report["redactions"]
        ]
    else:
        lines.append("None.")
    return [*lines, ""]


def _item(row: Mapping[str, Any]) -> str:
    for key, label in (("seed_task", "seed task"), ("response", "response"), ("prompt", "prompt")):
        if key in row:
            return f"{label} {row[key]}"
    return "-"
