"""A release's definition, declared once: its format and filters, their defaults, labels and validation.

`ReleaseFilters` has one field per filter; each field's metadata (a `FilterSpec`) says how the filter
is read (its kind), what it is called on the page and on the command line, and the message a bad
value gets. The releases form, the API's input serializer and the export_dataset command build their
fields from these specs and pass what they were given, unconverted, to `ReleaseDefinition.from_data`,
so the page, the API and the command accept and refuse the same values with the same messages.
Adding a filter is adding a field here, the query that applies it (curation.selectors.releases) and
its line on the card.

Canonical form (sorted lists, ISO dates, defaults filled in) makes equal definitions hash equal.
"""

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError

from curation.models import Difficulty, Project, ReleaseFormat, TaskStatus
from curation.selectors.releases import release_known_terms, release_rounds, round_gives_pairs, rounds_by_id_of
from curation.selectors.round_results import pairwise_axes

# Formats whose rows are seed tasks: the ones per-item agreement and its minimum apply to.
TASK_FORMATS = (ReleaseFormat.ALPACA.value, ReleaseFormat.CHAT.value)
PREFERENCE_FORMATS = (ReleaseFormat.PREFERENCE.value,)


# The message for a value of the wrong kind, unless a filter states its own.
KIND_INVALID = {
    "choices": "must be a list of names",
    "names": "must be a list of names",
    "date": "must be a date like 2026-01-31 (got {raw})",
    "text": "must be text",
    "flag": "must be true or false (got {raw})",
}


@dataclass(frozen=True)
class FilterSpec:
    """How one filter is read and shown.

    `kind` is one of: "choices" (a list from `choices`), "names" (a list of topic, view or type names
    the project's tasks use), "levels" (a list of whole numbers from `choices`), "ids" (a list of round
    ids), "count" (a whole number, `minimum` or more), "share" (a number from `minimum` to `maximum`,
    or none), "date", "text", "key" (one word) and "flag" (true or false). `help` is shown on the page
    and the command line, `cli_help` on the command line only. `invalid` is the message for a value of
    the wrong kind or out of range (by default the kind's, KIND_INVALID); `{raw}` in it shows what was given. `only_for`
    names the formats the filter applies to (empty: all); `refused_elsewhere`, when given, is the
    message that refuses it set for another format (`{formats}`, `{format}`) rather than leaving it
    unused.
    """

    kind: str
    label: str
    cli: str
    invalid: str = ""
    help: str = ""
    cli_help: str = ""
    noun: str = ""
    choices: tuple[tuple[Any, str], ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    only_for: tuple[str, ...] = ()
    refused_elsewhere: str = ""

    def __post_init__(self) -> None:
        if not self.invalid:
            object.__setattr__(self, "invalid", KIND_INVALID[self.kind])
        if not self.cli_help and self.kind == "date":
            object.__setattr__(self, "cli_help", "YYYY-MM-DD")

    @property
    def is_list(self) -> bool:
        return self.kind in ("choices", "names", "levels", "ids")


def _spec(default: Any, **spec: Any) -> Any:
    return field(default=default, metadata={"spec": FilterSpec(**spec)})


class _Invalid(Exception):
    """A filter's value cannot be read; the message is the filter's own."""


@dataclass(frozen=True)
class ReleaseFilters:
    """The filters of a release, clean, in the order the form shows them and the card lists them."""

    statuses: tuple[str, ...] = _spec(
        (TaskStatus.ACCEPTED.value,),
        kind="choices",
        label="Task status",
        cli="--status",
        noun="status",
        choices=tuple(TaskStatus.choices),
        cli_help="Task status to include",
    )
    min_reviewers: int = _spec(
        0,
        kind="count",
        label="Minimum reviewers",
        cli="--min-reviewers",
        minimum=0,
        cli_help="Tasks (and responses) reviewed by at least this many reviewers",
        invalid="must be a whole number, 0 or more (got {raw})",
    )
    min_agreement: float | None = _spec(
        None,
        kind="share",
        label="Minimum agreement",
        cli="--min-agreement",
        minimum=0,
        maximum=1,
        only_for=TASK_FORMATS,
        refused_elsewhere="applies to the seed-task formats ({formats}) only; leave it empty for {format}",
        help="Alpaca and chat only: the share of reviewer pairs that agree on an item, 0 to 1",
        invalid="must be a number from 0 to 1, the share of reviewer pairs that agree (got {raw})",
    )
    topics: tuple[str, ...] = _spec((), kind="names", label="Topics", cli="--topic", noun="topic")
    views: tuple[str, ...] = _spec((), kind="names", label="Views", cli="--view", noun="view")
    types: tuple[str, ...] = _spec((), kind="names", label="Types", cli="--type", noun="type", cli_help="Task type")
    difficulties: tuple[int, ...] = _spec(
        (),
        kind="levels",
        label="Difficulties",
        cli="--difficulty",
        choices=tuple(Difficulty.choices),
        minimum=1,
        maximum=5,
        cli_help="1 (easiest) to 5 (hardest)",
        invalid="must be whole numbers from 1 to 5 (got {raw})",
    )
    created_from: str | None = _spec(None, kind="date", label="Created from", cli="--created-from")
    created_to: str | None = _spec(None, kind="date", label="Created to", cli="--created-to")
    system_prompt: str = _spec("", kind="text", label="System prompt", cli="--system-prompt", help="Chat format only")
    include_empty_outputs: bool = _spec(
        False,
        kind="flag",
        label="Include tasks without an output",
        cli="--include-empty-outputs",
        only_for=TASK_FORMATS,
        refused_elsewhere="applies to the seed-task formats ({formats}) only; leave it off for {format}",
        help="Alpaca and chat only: by default a task without a reference output is left out (its row would "
        "teach an empty answer); the card says how many were",
    )
    rounds: tuple[int, ...] = _spec(
        (),
        kind="ids",
        label="Evaluation rounds",
        cli="--round",
        only_for=PREFERENCE_FORMATS,
        help="Preference only: rounds whose clear majorities become pairs (none chosen: every frozen or closed "
        "pairwise round)",
        invalid="must be a list of round ids (got {raw})",
    )
    round_axis: str = _spec(
        "overall",
        kind="key",
        label="Round question",
        cli="--round-axis",
        only_for=PREFERENCE_FORMATS,
        help="Preference only: the pairwise question whose majority counts",
        invalid="must be the key of a pairwise question, e.g. overall",
    )

    @classmethod
    def specs(cls) -> dict[str, FilterSpec]:
        return {f.name: f.metadata["spec"] for f in fields(cls)}

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return cls().as_dict()

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> "ReleaseFilters":
        """The filters of a saved release, already clean; a filter added since it was saved takes its default."""
        known = {name: _frozen(value) for name, value in stored.items() if name in cls.specs()}
        return cls(**known)

    def as_dict(self) -> dict[str, Any]:
        """The filters as JSON stores them: lists for the list filters."""
        return {name: list(value) if isinstance(value, tuple) else value for name, value in asdict(self).items()}


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def unused_filters(format: str) -> tuple[str, ...]:
    """Filters that do not apply to a format, left out where a release's filters are shown."""
    return tuple(name for name, spec in ReleaseFilters.specs().items() if spec.only_for and format not in spec.only_for)


def filters_shown(*, format: str, filters: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A saved release's filters that narrowed it, as (name in words, value in words), in stored order."""
    shown = []
    for name, value in filters.items():
        if value in (None, "", [], 0) or name in unused_filters(format):
            continue
        text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        shown.append((name.replace("_", " "), text))
    return shown


# --- Reading one value, by kind ---


def _refusal(spec: FilterSpec, raw: Any) -> _Invalid:
    """The filter's message for `raw`, shown the same whether a form posted text or the API sent JSON."""
    shown = ", ".join(map(str, raw)) if isinstance(raw, list | tuple) else str(raw)
    return _Invalid(spec.invalid.format(raw=shown))


def _as_list(raw: Any) -> list[Any]:
    if raw in (None, ""):
        return []
    return list(raw) if isinstance(raw, list | tuple) else [raw]


def _names(spec: FilterSpec, raw: Any) -> tuple[str, ...]:
    values = _as_list(raw)
    if not all(isinstance(v, str) for v in values):
        raise _refusal(spec, raw)
    return tuple(sorted({v.strip() for v in values if v.strip()}))


def _choices(spec: FilterSpec, raw: Any) -> tuple[str, ...]:
    values = _names(spec, raw)
    allowed = [value for value, _ in spec.choices]
    bad = [v for v in values if v not in allowed]
    if bad:
        raise _Invalid(f"unknown {spec.noun} {', '.join(bad)} (use {', '.join(allowed)})")
    if not values:
        raise _Invalid(f"choose at least one {spec.noun}")
    return values


def _whole_numbers(spec: FilterSpec, raw: Any) -> tuple[int, ...]:
    values = _as_list(raw)
    try:
        if any(isinstance(v, bool) for v in values):
            raise ValueError
        numbers = sorted({int(v) for v in values})
    except (TypeError, ValueError):
        raise _refusal(spec, raw) from None
    if any(not spec.minimum <= n <= spec.maximum for n in numbers if spec.minimum is not None):
        raise _refusal(spec, raw)
    return tuple(numbers)


def _number(spec: FilterSpec, raw: Any, convert: Callable[[Any], float]) -> Any:
    """`raw` as a number within the filter's bounds, or None when empty (a true or false is no number)."""
    if raw in (None, ""):
        return None
    try:
        if isinstance(raw, bool):
            raise ValueError
        number = convert(raw)
    except (TypeError, ValueError):
        raise _refusal(spec, raw) from None
    if (spec.minimum is not None and number < spec.minimum) or (spec.maximum is not None and number > spec.maximum):
        raise _refusal(spec, raw)
    return number


def _count(spec: FilterSpec, raw: Any) -> int:
    return _number(spec, raw, int) or 0


def _share(spec: FilterSpec, raw: Any) -> float | None:
    return _number(spec, raw, float)


def _date(spec: FilterSpec, raw: Any) -> str | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, datetime):
        raw = raw.date()
    if isinstance(raw, date):
        return raw.isoformat()
    try:
        return date.fromisoformat(str(raw)).isoformat()
    except ValueError:
        raise _refusal(spec, raw) from None


def _text(spec: FilterSpec, raw: Any) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise _refusal(spec, raw)
    return raw.replace("\r\n", "\n").strip()


FLAG_WORDS = {"true": True, "on": True, "yes": True, "1": True, "false": False, "off": False, "no": False, "0": False}


def _flag(spec: FilterSpec, raw: Any) -> bool:
    if raw in (None, ""):
        return False
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in FLAG_WORDS:
        return FLAG_WORDS[raw.strip().lower()]
    raise _refusal(spec, raw)


READERS: dict[str, Callable[[FilterSpec, Any], Any]] = {
    "choices": _choices,
    "names": _names,
    "levels": _whole_numbers,
    "ids": _whole_numbers,
    "count": _count,
    "share": _share,
    "date": _date,
    "text": _text,
    "key": _text,
    "flag": _flag,
}


# --- The definition ---


@dataclass(frozen=True)
class ReleaseDefinition:
    """What a release holds: its format and its filters, clean."""

    format: str
    filters: ReleaseFilters

    @classmethod
    def from_data(cls, *, project: Project, format: Any, filters: Any) -> "ReleaseDefinition":
        """Read a definition as a page, the API or the command line gave it.

        Raises ValidationError keyed by field (`format` or a filter's name) with every problem found:
        an unknown filter, a value of the wrong kind, a name no task of the project has, a round that
        cannot give pairs, a filter set for a format it does not apply to.
        """
        errors: dict[str, str] = {}
        if format not in ReleaseFormat.values:
            errors["format"] = f"must be one of {', '.join(ReleaseFormat.values)} (got {format!r})"
        values = _read_values(filters, errors)
        _check_against_project(values, project, errors)
        _check_combinations(values, str(format), errors)
        if errors:
            raise ValidationError(errors)
        return cls(format=format, filters=ReleaseFilters(**values))

    @classmethod
    def from_release(cls, *, format: str, filters: Mapping[str, Any]) -> "ReleaseDefinition":
        return cls(format=format, filters=ReleaseFilters.from_stored(filters))

    def definition_hash(self, *, project: Project) -> str:
        payload = json.dumps(
            {"project": project.pk, "format": self.format, "filters": self.filters.as_dict()}, sort_keys=True
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _read_values(filters: Any, errors: dict[str, str]) -> dict[str, Any]:
    """Each filter read by its kind; an unknown or unreadable one is an error and takes its default."""
    specs = ReleaseFilters.specs()
    defaults = ReleaseFilters.defaults()
    if filters is None:
        filters = {}
    if not isinstance(filters, Mapping):
        errors["filters"] = f"must be an object keyed by filter name (known: {', '.join(specs)})"
        filters = {}
    for unknown in sorted(set(filters) - set(specs)):
        errors[unknown] = f"is not a filter (known: {', '.join(specs)})"
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        try:
            values[name] = READERS[spec.kind](spec, filters.get(name, defaults[name]))
        except _Invalid as exc:
            errors[name] = str(exc)
            values[name] = _frozen(defaults[name])
    if not values["round_axis"]:
        values["round_axis"] = defaults["round_axis"]
    return values


def _check_against_project(values: dict[str, Any], project: Project, errors: dict[str, str]) -> None:
    """Names the project's tasks do not use, and rounds that cannot give pairs on the chosen question."""
    for name, spec in ReleaseFilters.specs().items():
        if spec.kind == "names" and values[name] and name not in errors:
            known = release_known_terms(project=project, name=name, values=values[name])
            missing = [v for v in values[name] if v not in known]
            if missing:
                errors[name] = f"no task in {project.slug} has {spec.noun} {', '.join(map(repr, missing))}"
    _check_rounds(values, project, errors)


def _check_rounds(values: dict[str, Any], project: Project, errors: dict[str, str]) -> None:
    ids, axis = values["rounds"], values["round_axis"]
    chosen = rounds_by_id_of(project=project, ids=ids)
    unusable = [i for i in ids if i not in chosen or not round_gives_pairs(chosen[i])]
    if unusable and "rounds" not in errors:
        errors["rounds"] = (
            f"round(s) {', '.join(map(str, unusable))} are not frozen or closed pairwise rounds of {project.slug}"
        )
    if "round_axis" in errors:
        return
    rounds = list(chosen.values()) if ids else release_rounds(project=project, ids=())
    lacking = [r.name for r in rounds if r.is_pairwise and axis not in {f["key"] for f in pairwise_axes(r)}]
    if lacking:
        errors["round_axis"] = f"{axis!r} is not a pairwise question of round(s) {', '.join(map(repr, lacking))}"


def _check_combinations(values: dict[str, Any], format: str, errors: dict[str, str]) -> None:
    if values["created_from"] and values["created_to"] and values["created_from"] > values["created_to"]:
        errors["created_to"] = "must not be before created_from"
    defaults = ReleaseFilters.defaults()
    for name, spec in ReleaseFilters.specs().items():
        unset = values[name] == _frozen(defaults[name])
        if spec.refused_elsewhere and not unset and format not in spec.only_for and name not in errors:
            errors[name] = spec.refused_elsewhere.format(formats=", ".join(spec.only_for), format=format)
