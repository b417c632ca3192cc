"""Physician rubric scoring (HealthBench-style) and the agreement of a grader with physicians.

Pure Python and numpy, no Django. Everything here works on parsed, validated rows: parse first
(`parse_healthbench_row`, `parse_meta_eval_row` and their plural forms), then score. docs/rubrics.md
states the formulas; the short version:

- A response's score is the sum of the points of the criteria it meets (a met negative criterion
  subtracts) over the sum of the positive points of its rubric. It is not clipped: a response that
  meets only negative criteria scores below 0. It is undefined when the rubric has no positive points.
- A set's score is the mean of its defined response scores clipped to [0, 1]. Its standard deviation
  and 95% interval come from a seeded bootstrap of that clipped mean, so they are reproducible.
- A rubric tag (an axis, a level, a cluster) re-scores every response on the criteria carrying that
  tag; a response whose tagged criteria have no positive points is left out of that tag. An example
  tag (a theme) takes the overall score of the responses whose row carries it.
- A grader's agreement with physicians pools (physician label, grader label) pairs over rows and
  physicians. Each physician gets the same treatment against the others: for physician p, the pairs
  (label of another physician q, label of p) over every row both labelled, pooled over rows and
  every q. The spread of the physicians' values is what a grader's value is judged against.

A value that cannot be computed is None with the reason next to it; NaN never leaves this module.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

LEVELS = ("example", "cluster")
AXES = ("accuracy", "completeness", "communication_quality", "context_awareness", "instruction_following")
ROLES = ("system", "developer", "user", "assistant")
MAX_POINTS = 10
SEED = 20250512
DRAWS = 1000
CONFIDENCE = 0.95
# Bounds the index matrix of one bootstrap chunk (draws x responses) to a few tens of megabytes.
_CELLS_PER_CHUNK = 4_000_000

NO_POSITIVE_POINTS = "no criterion has positive points, so there is nothing to divide by"
NO_SCORES = "no response has a defined score"
NO_PAIRS = "no pair of labels to compare"
NO_CHANCE_VARIATION = "both sides give one and the same label throughout, so chance agreement is total"
NO_OTHER_PHYSICIAN = "no row labelled by this physician has a label from another physician"


class RubricFormatError(ValueError):
    """A row that does not follow the rubric format; the message names the row and the field."""

    def __init__(self, where: str, field_name: str, problem: str):
        self.where = where
        self.field = field_name
        self.problem = problem
        super().__init__(f"{where}, {field_name}: {problem}")


# Parsed rows.


@dataclass(frozen=True)
class Message:
    role: str
    content: str


@dataclass(frozen=True)
class Criterion:
    text: str
    points: float
    tags: tuple[str, ...]

    @property
    def level(self) -> str:
        return next(t.split(":", 1)[1] for t in self.tags if t.startswith("level:"))

    @property
    def axis(self) -> str:
        return next(t.split(":", 1)[1] for t in self.tags if t.startswith("axis:"))

    @property
    def cluster(self) -> str | None:
        return next((t.split(":", 1)[1] for t in self.tags if t.startswith("cluster:")), None)


@dataclass(frozen=True)
class HealthBenchRow:
    prompt_id: str
    prompt: tuple[Message, ...]
    example_tags: tuple[str, ...]
    criteria: tuple[Criterion, ...]
    # Kept as read: reference answers are shown to people, never scored here.
    ideal_completions_data: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class MetaEvalRow:
    prompt: tuple[Message, ...]
    completion: tuple[Message, ...]
    rubric: str
    category: str
    binary_labels: tuple[bool, ...]
    physician_ids: tuple[str, ...]
    prompt_id: str | None = None
    completion_id: str | None = None


# Parsing and validation. Every check raises RubricFormatError on the first problem it finds.


def _where(row: int | None, data: Mapping[str, Any], id_field: str) -> str:
    label = f"row {row}" if row is not None else "row"
    ident = data.get(id_field) if isinstance(data, Mapping) else None
    return f"{label} ({id_field} {ident!r})" if isinstance(ident, str) and ident else label


def _require(data: Mapping[str, Any], key: str, where: str, prefix: str = "") -> Any:
    if key not in data:
        raise RubricFormatError(where, f"{prefix}{key}", "missing")
    return data[key]


def _text(value: Any, where: str, name: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise RubricFormatError(where, name, f"must be text, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise RubricFormatError(where, name, "is empty")
    return value


def _messages(value: Any, where: str, name: str) -> tuple[Message, ...]:
    if not isinstance(value, list) or not value:
        raise RubricFormatError(where, name, "must be a non-empty list of chat messages {role, content}")
    out = []
    for i, message in enumerate(value):
        at = f"{name}[{i}]"
        if not isinstance(message, Mapping):
            raise RubricFormatError(where, at, f"must be an object {{role, content}}, got {type(message).__name__}")
        role = _text(_require(message, "role", where, f"{at}."), where, f"{at}.role")
        if role not in ROLES:
            raise RubricFormatError(where, f"{at}.role", f"{role!r} is not one of {', '.join(ROLES)}")
        content = _text(_require(message, "content", where, f"{at}."), where, f"{at}.content", allow_empty=True)
        out.append(Message(role=role, content=content))
    return tuple(out)


def _points(value: Any, where: str, name: str) -> float:
    # bool is an int in Python; `true` as points is a mistake, not 1 point.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RubricFormatError(where, name, f"must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise RubricFormatError(where, name, f"{value} is not a finite number")
    if value == 0:
        raise RubricFormatError(where, name, "is 0; a criterion must add or subtract points")
    if not -MAX_POINTS <= value <= MAX_POINTS:
        raise RubricFormatError(where, name, f"{value} is outside [-{MAX_POINTS}, {MAX_POINTS}]")
    return value


def _tag_pair(tag: Any, where: str, name: str) -> tuple[str, str]:
    tag = _text(tag, where, name)
    prefix, sep, value = tag.partition(":")
    if not sep or not prefix or not value or tag != tag.strip():
        raise RubricFormatError(where, name, f"{tag!r} is not of the shape 'kind:value'")
    return prefix, value


def _criterion_tags(value: Any, where: str, name: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise RubricFormatError(where, name, f"must be a list of tags, got {type(value).__name__}")
    kinds: dict[str, list[str]] = defaultdict(list)
    for j, tag in enumerate(value):
        at = f"{name}[{j}]"
        prefix, tag_value = _tag_pair(tag, where, at)
        if prefix == "level" and tag_value not in LEVELS:
            raise RubricFormatError(where, at, f"{tag!r}: the level is one of {', '.join(LEVELS)}")
        if prefix == "axis" and tag_value not in AXES:
            raise RubricFormatError(where, at, f"{tag!r}: the axis is one of {', '.join(AXES)}")
        if prefix not in ("level", "axis", "cluster"):
            raise RubricFormatError(where, at, f"{tag!r}: a criterion's tags are level:, axis: and cluster:")
        kinds[prefix].append(tag_value)
    for kind in ("level", "axis"):
        if len(kinds[kind]) != 1:
            raise RubricFormatError(where, name, f"needs exactly one {kind}: tag, has {len(kinds[kind])}")
    if len(kinds["cluster"]) > 1:
        raise RubricFormatError(where, name, f"has {len(kinds['cluster'])} cluster: tags, at most one is allowed")
    # Consensus criteria are written once per cluster and shared across examples; the cluster names it.
    if kinds["level"][0] == "cluster" and not kinds["cluster"]:
        raise RubricFormatError(where, name, "a level:cluster criterion needs its cluster: tag")
    if kinds["level"][0] == "example" and kinds["cluster"]:
        raise RubricFormatError(where, name, "a level:example criterion cannot carry a cluster: tag")
    return tuple(value)


def parse_criterion(data: Any, *, where: str = "criterion", name: str = "rubrics[0]") -> Criterion:
    if not isinstance(data, Mapping):
        raise RubricFormatError(
            where, name, f"must be an object {{criterion, points, tags}}, got {type(data).__name__}"
        )
    text = _text(_require(data, "criterion", where, f"{name}."), where, f"{name}.criterion")
    points = _points(_require(data, "points", where, f"{name}."), where, f"{name}.points")
    tags = _criterion_tags(_require(data, "tags", where, f"{name}."), where, f"{name}.tags")
    return Criterion(text=text, points=points, tags=tags)


def parse_healthbench_row(data: Any, *, row: int | None = None) -> HealthBenchRow:
    """One rubric row: `prompt`, `prompt_id`, `example_tags`, `rubrics`, optionally `ideal_completions_data`."""
    if not isinstance(data, Mapping):
        raise RubricFormatError(_where(row, {}, "prompt_id"), "row", f"must be an object, got {type(data).__name__}")
    where = _where(row, data, "prompt_id")
    prompt_id = _text(_require(data, "prompt_id", where), where, "prompt_id")
    prompt = _messages(_require(data, "prompt", where), where, "prompt")
    raw_tags = _require(data, "example_tags", where)
    if not isinstance(raw_tags, list):
        raise RubricFormatError(where, "example_tags", f"must be a list of tags, got {type(raw_tags).__name__}")
    for j, tag in enumerate(raw_tags):
        _tag_pair(tag, where, f"example_tags[{j}]")
    if len(set(raw_tags)) != len(raw_tags):
        raise RubricFormatError(where, "example_tags", "lists a tag twice")
    rubrics = _require(data, "rubrics", where)
    if not isinstance(rubrics, list) or not rubrics:
        raise RubricFormatError(where, "rubrics", "must be a non-empty list of criteria")
    criteria = tuple(parse_criterion(c, where=where, name=f"rubrics[{i}]") for i, c in enumerate(rubrics))
    ideal = data.get("ideal_completions_data")
    if ideal is not None and not isinstance(ideal, Mapping):
        raise RubricFormatError(
            where, "ideal_completions_data", f"must be an object or null, got {type(ideal).__name__}"
        )
    return HealthBenchRow(
        prompt_id=prompt_id,
        prompt=prompt,
        example_tags=tuple(raw_tags),
        criteria=criteria,
        ideal_completions_data=ideal,
    )


def parse_healthbench_rows(rows: Iterable[Any]) -> list[HealthBenchRow]:
    """Rows numbered from 1 in messages; a prompt_id used twice is an error naming both rows."""
    parsed: list[HealthBenchRow] = []
    seen: dict[str, int] = {}
    for n, data in enumerate(rows, start=1):
        item = parse_healthbench_row(data, row=n)
        if item.prompt_id in seen:
            raise RubricFormatError(
                _where(n, data, "prompt_id"), "prompt_id", f"already used by row {seen[item.prompt_id]}"
            )
        seen[item.prompt_id] = n
        parsed.append(item)
    return parsed


def parse_meta_eval_row(data: Any, *, row: int | None = None) -> MetaEvalRow:
    """One physician-labelled row: `prompt`, `completion`, `rubric`, `category`, `binary_labels`,
    `anonymized_physician_ids` (one id per label, in the same order)."""
    if not isinstance(data, Mapping):
        raise RubricFormatError(_where(row, {}, "prompt_id"), "row", f"must be an object, got {type(data).__name__}")
    where = _where(row, data, "prompt_id")
    prompt = _messages(_require(data, "prompt", where), where, "prompt")
    raw_completion = _require(data, "completion", where)
    if isinstance(raw_completion, str):
        completion = (Message(role="assistant", content=_text(raw_completion, where, "completion")),)
    else:
        completion = _messages(raw_completion, where, "completion")
    rubric = _text(_require(data, "rubric", where), where, "rubric")
    category = _text(_require(data, "category", where), where, "category")
    labels = _require(data, "binary_labels", where)
    if not isinstance(labels, list) or not labels:
        raise RubricFormatError(where, "binary_labels", "must be a non-empty list of true/false")
    for j, label in enumerate(labels):
        if not isinstance(label, bool):
            raise RubricFormatError(where, f"binary_labels[{j}]", f"must be true or false, got {label!r}")
    ids = _require(data, "anonymized_physician_ids", where)
    if not isinstance(ids, list):
        raise RubricFormatError(where, "anonymized_physician_ids", f"must be a list, got {type(ids).__name__}")
    if len(ids) != len(labels):
        raise RubricFormatError(
            where, "anonymized_physician_ids", f"has {len(ids)} ids for {len(labels)} binary_labels; one id per label"
        )
    physician_ids = []
    for j, ident in enumerate(ids):
        if (
            isinstance(ident, bool)
            or not isinstance(ident, str | int)
            or (isinstance(ident, str) and not ident.strip())
        ):
            raise RubricFormatError(where, f"anonymized_physician_ids[{j}]", f"must be a non-empty id, got {ident!r}")
        physician_ids.append(str(ident))
    if len(set(physician_ids)) != len(physician_ids):
        raise RubricFormatError(where, "anonymized_physician_ids", "lists a physician twice")
    optional = {}
    for key in ("prompt_id", "completion_id"):
        if data.get(key) is not None:
            optional[key] = _text(data[key], where, key)
    return MetaEvalRow(
        prompt=prompt,
        completion=completion,
        rubric=rubric,
        category=category,
        binary_labels=tuple(labels),
        physician_ids=tuple(physician_ids),
        **optional,
    )


def parse_meta_eval_rows(rows: Iterable[Any]) -> list[MetaEvalRow]:
    return [parse_meta_eval_row(data, row=n) for n, data in enumerate(rows, start=1)]


# Scores of responses and of sets of responses.


@dataclass(frozen=True)
class ResponseScore:
    """`value` is None exactly when `undefined` says why; `achieved` may be negative."""

    value: float | None
    achieved: float
    possible: float
    undefined: str | None = None


def _flags(criteria: Sequence[Criterion], met: Sequence[bool]) -> tuple[bool, ...]:
    if len(met) != len(criteria):
        raise ValueError(f"{len(met)} met flags for {len(criteria)} criteria; one flag per criterion")
    for i, flag in enumerate(met):
        if not isinstance(flag, bool | np.bool_):
            raise ValueError(f"met flag {i} must be true or false, got {flag!r}")
    return tuple(bool(f) for f in met)


def response_score(criteria: Sequence[Criterion], met_flags: Sequence[bool]) -> ResponseScore:
    flags = _flags(criteria, met_flags)
    achieved = float(sum(c.points for c, m in zip(criteria, flags, strict=True) if m))
    possible = float(sum(c.points for c in criteria if c.points > 0))
    if possible <= 0:
        return ResponseScore(value=None, achieved=achieved, possible=0.0, undefined=NO_POSITIVE_POINTS)
    return ResponseScore(value=achieved / possible, achieved=achieved, possible=possible)


@dataclass(frozen=True)
class SetScore:
    """The clipped mean of `n` defined response scores, with the standard deviation and percentile
    interval of its bootstrap distribution; `n_undefined` responses had no score and were left out."""

    value: float | None
    std: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int = 0
    n_undefined: int = 0
    undefined: str | None = None


def _clipped_mean(x: np.ndarray, axis: int | None = None) -> np.ndarray:
    return np.clip(x.mean(axis=axis), 0.0, 1.0)


def _bootstrap_means(x: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """Clipped means of `draws` resamples of x (with replacement, same size), in draw order.

    The chunk size depends only on len(x), so a seed gives the same draws on every machine."""
    rng = np.random.default_rng(seed)
    chunk = max(1, _CELLS_PER_CHUNK // x.size)
    out = np.empty(draws)
    for start in range(0, draws, chunk):
        b = min(chunk, draws - start)
        out[start : start + b] = _clipped_mean(x[rng.integers(0, x.size, size=(b, x.size))], axis=1)
    return out


def set_score(
    scores: Sequence[float | None], draws: int = DRAWS, seed: int = SEED, *, confidence: float = CONFIDENCE
) -> SetScore:
    """Mean of the scores clipped to [0, 1]; None scores (undefined responses) are counted and left out."""
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 2:
        raise ValueError(f"draws must be a whole number of at least 2, got {draws!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")
    defined = [s for s in scores if s is not None]
    for s in defined:
        if isinstance(s, bool) or not isinstance(s, int | float | np.floating | np.integer) or not math.isfinite(s):
            raise ValueError(f"a score must be a finite number or None, got {s!r}")
    n_undefined = len(scores) - len(defined)
    if not defined:
        return SetScore(value=None, n=0, n_undefined=n_undefined, undefined=NO_SCORES)
    x = np.asarray(defined, dtype=float)
    boot = _bootstrap_means(x, draws, seed)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(boot, [tail, 100 - tail])
    return SetScore(
        value=float(_clipped_mean(x)),
        std=float(boot.std(ddof=1)),
        ci_low=float(low),
        ci_high=float(high),
        n=len(defined),
        n_undefined=n_undefined,
    )


@dataclass(frozen=True)
class GradedResponse:
    """A response's rubric with one met flag per criterion, and the example tags of its row."""

    criteria: tuple[Criterion, ...]
    met: tuple[bool, ...]
    example_tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "met", _flags(self.criteria, self.met))

    @classmethod
    def of(cls, row: HealthBenchRow, met: Sequence[bool]) -> GradedResponse:
        return cls(criteria=row.criteria, met=tuple(met), example_tags=row.example_tags)

    def score(self) -> ResponseScore:
        return response_score(self.criteria, self.met)


def tag_scores(
    responses: Sequence[GradedResponse], draws: int = DRAWS, seed: int = SEED, *, confidence: float = CONFIDENCE
) -> dict[str, SetScore]:
    """A set score per tag, sorted by tag. Rubric tags re-score each response on the criteria carrying
    the tag; example tags take the response's overall score. A response whose criteria under a tag have
    no positive points counts in that tag's `n_undefined`, and a tag no response defines is undefined."""
    per_tag: dict[str, list[float | None]] = defaultdict(list)
    for response in responses:
        overall = response.score().value
        for tag in response.example_tags:
            per_tag[tag].append(overall)
        rubric_tags = dict.fromkeys(t for c in response.criteria for t in c.tags)
        for tag in rubric_tags:
            pairs = [(c, m) for c, m in zip(response.criteria, response.met, strict=True) if tag in c.tags]
            per_tag[tag].append(response_score([c for c, _ in pairs], [m for _, m in pairs]).value)
    return {tag: set_score(values, draws, seed, confidence=confidence) for tag, values in sorted(per_tag.items())}


@dataclass(frozen=True)
class RubricReport:
    overall: SetScore
    by_tag: dict[str, SetScore]


def rubric_report(
    responses: Sequence[GradedResponse], draws: int = DRAWS, seed: int = SEED, *, confidence: float = CONFIDENCE
) -> RubricReport:
    overall = set_score([r.score().value for r in responses], draws, seed, confidence=confidence)
    return RubricReport(overall=overall, by_tag=tag_scores(responses, draws, seed, confidence=confidence))


# Agreement on binary "criterion met" labels.


def _bool_array(values: Sequence[bool], name: str) -> np.ndarray:
    for i, v in enumerate(values):
        if not isinstance(v, bool | np.bool_):
            raise ValueError(f"{name}[{i}] must be true or false, got {v!r}")
    return np.asarray(values, dtype=bool)


def _f1(tp: int, fp: int, fn: int) -> float | None:
    denominator = 2 * tp + fp + fn
    return None if denominator == 0 else 2 * tp / denominator


def balanced_f1(truth: Sequence[bool], predicted: Sequence[bool]) -> float | None:
    """Mean of the F1 of "met" and the F1 of "not met" (macro F1 over the two classes).

    A class that neither side ever uses has no F1 and is left out of the mean, so two sides that
    agree on "met" throughout score 1; None when there are no pairs at all."""
    t = _bool_array(truth, "truth")
    p = _bool_array(predicted, "predicted")
    if t.shape != p.shape:
        raise ValueError(f"{t.size} truth labels but {p.size} predicted labels")
    met = _f1(int((t & p).sum()), int((~t & p).sum()), int((t & ~p).sum()))
    not_met = _f1(int((~t & ~p).sum()), int((t & ~p).sum()), int((~t & p).sum()))
    defined = [f for f in (met, not_met) if f is not None]
    return sum(defined) / len(defined) if defined else None


@dataclass(frozen=True)
class Agreement:
    """Agreement over pooled (truth, predicted) pairs; a None value has its reason in `undefined`."""

    n_pairs: int
    balanced_f1: float | None
    cohen_kappa: float | None
    percent_agreement: float | None
    undefined: dict[str, str] = field(default_factory=dict)


def pair_agreement(truth: Sequence[bool], predicted: Sequence[bool]) -> Agreement:
    t = _bool_array(truth, "truth")
    p = _bool_array(predicted, "predicted")
    if t.shape != p.shape:
        raise ValueError(f"{t.size} truth labels but {p.size} predicted labels")
    if t.size == 0:
        reasons = dict.fromkeys(("balanced_f1", "cohen_kappa", "percent_agreement"), NO_PAIRS)
        return Agreement(0, None, None, None, reasons)
    observed = float((t == p).mean())
    chance = float(t.mean() * p.mean() + (1 - t.mean()) * (1 - p.mean()))
    undefined = {}
    kappa = None
    if chance >= 1 - 1e-12:
        undefined["cohen_kappa"] = NO_CHANCE_VARIATION
    else:
        kappa = (observed - chance) / (1 - chance)
    return Agreement(int(t.size), balanced_f1(t.tolist(), p.tolist()), kappa, observed, undefined)


@dataclass(frozen=True)
class Spread:
    """Median, minimum and maximum of one metric over the `n` physicians for whom it is defined."""

    n: int
    median: float | None
    min: float | None
    max: float | None


def _spread(values: Iterable[float | None]) -> Spread:
    defined = [v for v in values if v is not None]
    if not defined:
        return Spread(0, None, None, None)
    return Spread(len(defined), statistics.median(defined), min(defined), max(defined))


@dataclass(frozen=True)
class GraderAgreement:
    """The grader against every physician label, and each physician against the other physicians.

    `physicians_below_grader` is the share of physicians with a defined balanced F1 strictly below the
    grader's: 1.0 means the grader agrees with physicians better than any one physician does."""

    grader: Agreement
    n_rows: int
    physicians: dict[str, Agreement]
    physician_balanced_f1: Spread
    physician_cohen_kappa: Spread
    physician_percent_agreement: Spread
    physicians_below_grader: float | None


def grader_agreement(rows: Sequence[MetaEvalRow], grader_labels: Sequence[bool]) -> GraderAgreement:
    """`grader_labels[i]` is the grader's "met" for `rows[i]`.

    Grader: pairs (physician's label, grader's label), one per physician label, pooled over rows.
    Physician p: pairs (q's label, p's label) for every other physician q on every row both labelled,
    pooled over rows; a row p labelled alone gives p no pairs. The other physicians play the part of
    truth, as the physicians do for the grader, so the two are measured the same way."""
    if len(grader_labels) != len(rows):
        raise ValueError(f"{len(grader_labels)} grader labels for {len(rows)} rows; one label per row")
    graded = _bool_array(grader_labels, "grader_labels")
    truth: list[bool] = []
    predicted: list[bool] = []
    pairs: dict[str, tuple[list[bool], list[bool]]] = {}
    for row, grader_label in zip(rows, graded.tolist(), strict=True):
        for label in row.binary_labels:
            truth.append(label)
            predicted.append(grader_label)
        for p, p_label in zip(row.physician_ids, row.binary_labels, strict=True):
            others_truth, own = pairs.setdefault(p, ([], []))
            for q, q_label in zip(row.physician_ids, row.binary_labels, strict=True):
                if q != p:
                    others_truth.append(q_label)
                    own.append(p_label)
    grader = pair_agreement(truth, predicted)
    physicians = {}
    for p, (t, own) in sorted(pairs.items()):
        agreement = pair_agreement(t, own)
        if agreement.n_pairs == 0:
            agreement = Agreement(0, None, None, None, dict.fromkeys(agreement.undefined, NO_OTHER_PHYSICIAN))
        physicians[p] = agreement
    f1s = [a.balanced_f1 for a in physicians.values() if a.balanced_f1 is not None]
    below = None
    if grader.balanced_f1 is not None and f1s:
        below = sum(f < grader.balanced_f1 for f in f1s) / len(f1s)
    return GraderAgreement(
        grader=grader,
        n_rows=len(rows),
        physicians=physicians,
        physician_balanced_f1=_spread(a.balanced_f1 for a in physicians.values()),
        physician_cohen_kappa=_spread(a.cohen_kappa for a in physicians.values()),
        physician_percent_agreement=_spread(a.percent_agreement for a in physicians.values()),
        physicians_below_grader=below,
    )


def grader_agreement_by_category(
    rows: Sequence[MetaEvalRow], grader_labels: Sequence[bool]
) -> dict[str, GraderAgreement]:
    """`grader_agreement` within each category of rows, sorted by category."""
    if len(grader_labels) != len(rows):
        raise ValueError(f"{len(grader_labels)} grader labels for {len(rows)} rows; one label per row")
    groups: dict[str, tuple[list[MetaEvalRow], list[bool]]] = defaultdict(lambda: ([], []))
    for row, label in zip(rows, grader_labels, strict=True):
        groups[row.category][0].append(row)
        groups[row.category][1].append(label)
    return {category: grader_agreement(r, g) for category, (r, g) in sorted(groups.items())}
