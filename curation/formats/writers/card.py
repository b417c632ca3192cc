"""The dataset card (README.md) shipped with a release: what it is for, what is in it, how it was made.

Rendered from the release's definition, its manifest and the counts gathered while its rows were
written (curation.services.releases assembles them); nothing here reads the database.
"""

from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from curation.formats.writers.phi import phi_card_section
from curation.models import Project, Release, ReleaseFormat
from curation.releases_definition import TASK_FORMATS, filters_shown

FORMAT_NOTES = {
    "alpaca": "One JSON object per line: `instruction`, `input` (empty when none), `output`, and `metadata`.",
    "chat": "One JSON object per line: `messages` (optional system, user, assistant) and `metadata`.",
    "preference": "One JSON object per line: `prompt`, `chosen`, `rejected` and `metadata`, whose `source` is "
    "`correction` (a clinician's correction chosen over the text corrected; corrections that change nothing "
    "are ties and are left out) or `round` (the answer a clear majority of an evaluation round's judges "
    "preferred, with `round_id`, `votes_for`, `votes_against` and `judgments`; ties are never exported).",
    "reviews": "One JSON object per line for each (item, reviewer, field) of every current review.",
    "reviews_csv": "CSV, one row for each (item, reviewer, field) of every current review.",
    "scores_csv": "CSV, one row per current review with a column per numeric rating field.",
}


def _md(text: Any) -> str:
    """Table-cell text: a pipe or newline from a user's label must not break the card's tables."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _ci(entry: Mapping[str, Any]) -> str:
    if entry["ci_low"] is None or entry["ci_high"] is None:
        return _md(entry.get("undefined") or "-")
    return f"{entry['ci_low']:.3f} to {entry['ci_high']:.3f}"


def _agreement_table(rows: list[Mapping[str, Any]], first: str = "form") -> list[str]:
    return [
        f"| {first} | field | statistic | value | 95% CI | items |",
        "| --- | --- | --- | ---: | --- | ---: |",
        *(
            f"| {_md(a['schema'])} | {_md(a['field'])} | {a['statistic']} | {_figure(a['value'])} "
            f"| {_ci(a)} | {a['n_items']} |"
            for a in rows
        ),
    ]


def _table(title: str, rows: list[tuple[Any, int]], first: str) -> list[str]:
    lines = [f"### {title}", "", f"| {first} | items |", "| --- | ---: |"]
    lines += [f"| {_md(label)} | {n} |" for label, n in rows] or ["| (none) | 0 |"]
    return [*lines, ""]


def _pair_sources(stats: Mapping[str, Any], min_judgments: int) -> list[str]:
    """The count of preference pairs by source, with the rounds read and their state."""
    counts = stats["pair_sources"]
    lines = [
        "### Preference pairs by source",
        "",
        "| source | pairs |",
        "| --- | ---: |",
        f"| clinician corrections | {counts.get('correction', 0)} |",
    ]
    lines += [
        f"| round {r.pk}: {_md(r.name)} ({r.get_status_display().split(':')[0].lower()}) | {counts.get(r.pk, 0)} |"
        for r in stats["rounds"]
    ]
    lines += [
        "",
        f"Round pairs: items where strictly more than half of the judgments on `{stats['round_axis']}` picked the "
        f'same model (at least {min_judgments} judgments); ties and "both bad" are never exported. Rounds read: '
        + (", ".join(str(r.pk) for r in stats["rounds"]) or "none")
        + " (by default every frozen or closed pairwise round; a frozen round counts the judgments made so far).",
        "",
    ]
    return lines


def _header(release: Release, project: Project) -> list[str]:
    return [
        f"# {release.title}",
        "",
        f"Release {release.pk} of the Concord project **{project.name}** (`{project.slug}`).",
        "",
        "## Purpose",
        "",
        release.purpose or "Not stated by the release's author.",
        "",
    ]


def _contents(release: Release, manifest: Mapping[str, Any], stats: Mapping[str, Any]) -> list[str]:
    round_min_judgments = max(2, int(release.filters.get("min_reviewers") or 0))
    return [
        "## Contents",
        "",
        f"- Format: `{release.format}`. {FORMAT_NOTES[release.format]}",
        f"- Rows: {manifest['row_count']}",
        f"- SHA-256 of `{manifest['file_name']}`: `{manifest['sha256']}`",
        f"- Seed tasks in scope: {stats['tasks']} ({stats['without_output']} without a reference output)",
        *_left_out(stats),
        f"- Current reviews behind these rows: {stats['reviews']} by {stats['reviewers']} reviewers",
        "",
        *_table("Topics", stats["topics"], "topic"),
        *_table("Views", stats["views"], "view"),
        *_table("Task types", stats["types"], "type"),
        *_table("Difficulty (1 easiest, 5 hardest)", stats["difficulty"], "difficulty"),
        *_table("Reviewers per seed task", stats["reviewers_per_task"], "reviewers"),
        *(_pair_sources(stats, round_min_judgments) if release.format == ReleaseFormat.PREFERENCE else []),
    ]


def _left_out(stats: Mapping[str, Any]) -> list[str]:
    lines = []
    if held_back := stats.get("held_back") or 0:
        lines.append(
            f"- Held back: {held_back} seed task(s) the filters selected that are not cleared for release: "
            "not scanned for PHI as they are now, with an open PHI finding, or with an open unsafe or PHI flag"
        )
    if left_out := stats.get("left_out_without_output") or 0:
        lines.append(
            f"- Left out: {left_out} seed task(s) the filters selected that have no reference output; a row "
            "without an output would teach an empty answer (build with include_empty_outputs to keep them)"
        )
    return lines


def _agreement(release: Release, stats: Mapping[str, Any]) -> list[str]:
    lines = ["## Agreement", ""]
    if stats["agreement"]:
        lines += _agreement_table(stats["agreement"])
        lines += ["", "Computed over all current reviews of the project, of which this release's items are a part."]
    else:
        lines.append(
            "Inter-rater agreement was not computed for this release (none yet, or the project is large enough "
            "that a worker computes it: see the project's agreement page)."
        )
    if stats["round_agreement"]:
        lines += ["", "Between the judges of the evaluation rounds read (each verdict mapped back to the models):", ""]
        lines += _agreement_table(stats["round_agreement"], first="round")
        lines += ["", "Items judged by two or more reviewers; 200 bootstrap draws over items, as on the round's page."]
    if release.format in TASK_FORMATS:
        lines += [
            "",
            "Each row's `metadata.agreement` is the item's own agreement: for a seed task with two or more current "
            "reviews, the mean over its form's scored fields (scales, numbers, single and multiple choices; not free "
            "text) of the share of reviewer pairs whose answers agree exactly, over the reviewers who answered the "
            "field; null with fewer than two reviews. Rounded to 4 places.",
        ]
    return lines


def _license(release: Release, stats: Mapping[str, Any]) -> list[str]:
    return [
        "",
        "## License",
        "",
        f"{release.license}. Items imported from third-party files keep their source's license and "
        "attribution; the sources are listed below.",
        "",
        *_table("Sources", stats["sources"], "file"),
    ]


def _how_it_was_made(release: Release, manifest: Mapping[str, Any]) -> list[str]:
    return [
        "## How it was made",
        "",
        f"- Clinicians curated the items in Concord under guidelines version {manifest['guidelines_version']}.",
        "- Rating forms: "
        + (", ".join(f"{s['name']} v{s['version']}" for s in manifest["schema_versions"]) or "none in scope")
        + ".",
        "- Filters:",
        # The system prompt is in the rows themselves.
        *(
            f"  - {name}: {text}"
            for name, text in filters_shown(format=release.format, filters=release.filters)
            if name != "system prompt"
        ),
        "- Items with an uncleared unsafe or PHI flag are left out.",
        "- Read from one consistent database snapshot; rows in id order, so rebuilding the same definition "
        "on unchanged data gives the same bytes.",
        "- Reviewer ids are pseudonyms keyed by the project's secret and this release's definition: the same "
        "in every release of this definition until the key is rotated, unlinkable to other definitions' ids.",
        f"- Built by {release.created_by or 'the command line'} on "
        f"{timezone.now():%Y-%m-%d %H:%M} UTC, attempt {release.attempts}.",
        "",
    ]


def dataset_card_render(
    *, release: Release, project: Project, manifest: Mapping[str, Any], stats: Mapping[str, Any]
) -> str:
    """The README.md shipped with a release, section by section."""
    return "\n".join(
        [
            *_header(release, project),
            *_contents(release, manifest, stats),
            *_agreement(release, stats),
            *phi_card_section(manifest.get("phi")),
            *_license(release, stats),
            *_how_it_was_made(release, manifest),
        ]
    )
