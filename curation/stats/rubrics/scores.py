"""Scores of responses, of sets of responses, and per tag, with bootstrap intervals."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from curation.stats.lazy import lazy_module
from curation.stats.rubrics.rows import NO_POSITIVE_POINTS, Criterion, HealthBenchRow

# numpy and scipy load at the first computation, not at every process start (curation.stats.lazy).
np = lazy_module("numpy")

SEED = 20250512
DRAWS = 1000
CONFIDENCE = 0.95
# Bounds the index matrix of one bootstrap chunk (draws x responses) to a few tens of megabytes.
_CELLS_PER_CHUNK = 4_000_000

NO_SCORES = "no response has a defined score"
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
