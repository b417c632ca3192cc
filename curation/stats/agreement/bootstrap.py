"""Ratings as a units x raters matrix, the per-unit statistics every coefficient uses, and bootstrap draws."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from curation.stats.lazy import lazy_module

# numpy and scipy load at the first computation, not at every process start (curation.stats.lazy).
np = lazy_module("numpy")


LEVELS = ("nominal", "ordinal", "interval", "ratio")
SEED = 20110101
DRAWS = 1000
CONFIDENCE = 0.95
# A draw chunk holds chunk x units weights and chunk x categories^2 coincidences; this bounds both.
_CELLS_PER_CHUNK = 20_000_000
_MAX_CHUNK = 250
# A CI needs most draws to be defined; below this share it is not reported.
_MIN_DEFINED_DRAWS = 0.5
OUTLIER_ALPHA_GAIN = 0.05
# Leaving out a reviewer of one or two items can move alpha a lot by chance: too few to call them an outlier.
OUTLIER_MIN_UNITS = 10

TOO_FEW_UNITS = "fewer than two units have two or more ratings"
NO_VARIATION = "every rating has the same value, so there is no variation to agree on"

# A string, so that defining the alias does not import numpy.
StatFn: TypeAlias = "Callable[[np.ndarray], dict[str, np.ndarray]]"


@dataclass(frozen=True)
class Estimate:
    """A coefficient with its bootstrap interval; `value` is None exactly when `undefined` says why."""

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    n_units: int = 0
    undefined: str | None = None

    def as_dict(self) -> dict:
        return {
            "value": _clean(self.value),
            "ci_low": _clean(self.ci_low),
            "ci_high": _clean(self.ci_high),
            "n_units": self.n_units,
            "undefined": self.undefined,
        }


def _clean(x: float | None) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), 6)


@dataclass(frozen=True)
class RatingsTable:
    """Ratings as three aligned arrays, one entry per rating (which unit, which rater, what value), with
    the labels of the units, the raters and the codes. Only the ratings are held, never a units x raters
    grid: a million items rated by three hundred people are three million entries, not 300 million."""

    units: Sequence[Hashable]
    raters: Sequence[Hashable]
    categories: list[Hashable] | None  # the label of code k, when values were coded
    unit_index: np.ndarray  # position in `units` of each rating's unit
    rater_index: np.ndarray  # position in `raters` of each rating's rater
    values: np.ndarray  # each rating's value (its code, when values were coded)

    @property
    def matrix(self) -> np.ndarray:
        """The units x raters matrix with NaN for "not rated", for callers with few units."""
        matrix = np.full((len(self.units), len(self.raters)), np.nan)
        matrix[self.unit_index, self.rater_index] = self.values
        return matrix


def ratings_from_rows(
    rows: Iterable[tuple[Hashable, Hashable, object]], *, order: Sequence[Hashable] | None = None
) -> RatingsTable:
    """Rows `(unit, rater, value)` to a table. With `order`, values are coded by their position in it
    (so ordinal labels keep their order); without, values must be numbers. None values are skipped.

    Raises ValueError when a rater rates a unit twice or a value is not in `order`.
    """
    units: dict[Hashable, int] = {}
    raters: dict[Hashable, int] = {}
    cells: dict[tuple[int, int], float] = {}
    codes = {label: float(i) for i, label in enumerate(order)} if order is not None else None
    for unit, rater, value in rows:
        if value is None:
            continue
        u = units.setdefault(unit, len(units))
        r = raters.setdefault(rater, len(raters))
        if (u, r) in cells:
            raise ValueError(f"rater {rater!r} rated unit {unit!r} more than once")
        if codes is not None:
            if value not in codes:
                raise ValueError(f"value {value!r} of rater {rater!r} on unit {unit!r} is not one of {list(codes)}")
            cells[(u, r)] = codes[value]
        else:
            cells[(u, r)] = float(value)  # type: ignore[arg-type]
    index = np.array(list(cells.keys()), dtype=np.int64).reshape(-1, 2)
    return RatingsTable(
        list(units),
        list(raters),
        list(order) if order is not None else None,
        index[:, 0],
        index[:, 1],
        np.array(list(cells.values()), dtype=float),
    )


def ratings_from_arrays(
    units: np.ndarray, raters: np.ndarray, values: np.ndarray, *, categories: Sequence[Hashable] | None = None
) -> RatingsTable:
    """A table from aligned arrays, one entry per rating: the unit's and the rater's ids (integers) and
    the value (already coded when `categories` names the codes), NaN for "not rated", which is skipped.
    Units and raters keep the order in which they first appear with a value, as in `ratings_from_rows`;
    `units` and `raters` of the table are arrays of the ids.

    Raises ValueError when a rater rates a unit twice.
    """
    units, raters, values = np.asarray(units), np.asarray(raters), np.asarray(values, dtype=float)
    rated = ~np.isnan(values)
    units, raters, values = units[rated], raters[rated], values[rated]
    unit_ids, unit_index = _first_seen(units)
    rater_ids, rater_index = _first_seen(raters)
    cell = unit_index.astype(np.int64) * max(len(rater_ids), 1) + rater_index
    order = np.argsort(cell, kind="stable")
    repeated = np.flatnonzero(cell[order][1:] == cell[order][:-1])
    if repeated.size:
        row = order[repeated + 1].min()  # the first rating, in the given order, of a cell rated before
        raise ValueError(f"rater {raters[row].item()!r} rated unit {units[row].item()!r} more than once")
    index = np.int32 if max(len(unit_ids), len(rater_ids)) < 2**31 else np.int64  # a third less memory a rating
    return RatingsTable(
        unit_ids,
        rater_ids,
        list(categories) if categories is not None else None,
        unit_index.astype(index),
        rater_index.astype(index),
        values,
    )


def _first_seen(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ids in the order they first appear, and each entry's position among them."""
    distinct, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    rank = np.empty(distinct.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(distinct.size)
    return distinct[np.argsort(first, kind="stable")], rank[inverse.ravel()]


def _as_table(ratings: np.ndarray | RatingsTable, level: str) -> RatingsTable:
    """The ratings as a table, refused (as `_Prepared` would refuse them) when they cannot be compared
    at `level`: the checks of a report, made when it is asked for rather than when it runs."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)} (got {level!r})")
    if isinstance(ratings, RatingsTable):
        table = ratings
    else:
        x = np.asarray(ratings, dtype=float)
        if x.ndim != 2:
            raise ValueError("ratings must be a units x raters matrix")
        unit, rater = np.nonzero(~np.isnan(x))
        table = RatingsTable(range(x.shape[0]), range(x.shape[1]), None, unit, rater, x[unit, rater])
    values = np.asarray(table.values, dtype=float)
    if np.isinf(values).any():
        raise ValueError("ratings must be finite numbers or NaN for missing")
    if level == "ratio" and (values < 0).any():
        raise ValueError("the ratio level needs non-negative values")
    return table


class _Prepared:
    """Per-unit statistics of one set of ratings, over the units that have at least one rating, and each
    rater's ratings (by unit). Memory is units x categories plus ratings, never units x raters."""

    def __init__(self, ratings: np.ndarray | RatingsTable, level: str):
        table = _as_table(ratings, level)
        unit, rater, value = table.unit_index, table.rater_index, np.asarray(table.values, dtype=float)
        n_raters = len(table.raters)
        # Units without a rating are dropped; the others keep their order (bootstrap draws index them).
        kept, unit = np.unique(unit, return_inverse=True)
        unit = unit.ravel()
        self.level = level
        self.n_raters = n_raters
        self.values = np.unique(value)
        self.k = len(self.values)
        self.n = kept.size
        code = np.searchsorted(self.values, value)
        # Each rater's ratings, by unit: rater r's are [rater_ptr[r], rater_ptr[r + 1]).
        order = np.lexsort((unit, rater))
        self.rater_unit = unit[order]
        self.rater_code = code[order]
        self.rater_ptr = np.concatenate([[0], np.cumsum(np.bincount(rater, minlength=n_raters))]).astype(np.int64)
        self.m = np.bincount(unit, minlength=self.n).astype(float)
        self.pairable = self.m >= 2
        self.n_pairable = int(self.pairable.sum())
        flat = unit * self.k + code
        self.counts = np.bincount(flat, minlength=self.n * self.k).reshape(self.n, self.k).astype(float)
        p = self.pairable.astype(float)
        self.p = p
        safe_pairs = np.where(self.pairable, self.m * (self.m - 1), 1.0)
        # Share of agreeing ordered pairs per unit: percent agreement and Fleiss' per-unit P_i.
        self.unit_agreement = p * ((self.counts * (self.counts - 1)).sum(axis=1) / safe_pairs)
        self.pairable_counts_t = np.ascontiguousarray((self.counts * p[:, None]).T)
        self.pairable_m = self.m * p
        sizes = self.m[self.pairable]
        self.same_size = sizes.size > 0 and bool((sizes == sizes[0]).all())
        self.size_range = (int(sizes.min()), int(sizes.max())) if sizes.size else (0, 0)

    @property
    def pairable_counts(self) -> np.ndarray:
        """Units x values counts of the pairable units (zero rows for the others), made when asked for:
        it is needed while statistics are made, not while they run."""
        return self.counts * self.p[:, None]

    def rated_by(self, rater: int) -> tuple[np.ndarray, np.ndarray]:
        """The units one rater rated, ascending, and the code of each of their ratings."""
        span = slice(self.rater_ptr[rater], self.rater_ptr[rater + 1])
        return self.rater_unit[span], self.rater_code[span]

    def rater_of_rating(self) -> np.ndarray:
        """The rater of each rating, aligned with `rater_unit` and `rater_code`."""
        return np.repeat(np.arange(self.n_raters), np.diff(self.rater_ptr))


def _chunks(n_units: int, draws: int, seed: int, chunk: int) -> Iterator[np.ndarray]:
    """Bootstrap unit weights, units x draws: column j counts how often each unit was drawn in resample j.

    Units run down the rows so that every product with per-unit statistics reads contiguous memory.
    Resample after resample draws the generator's next n_units integers, however the draws are chunked;
    counting them one resample at a time keeps the work arrays to one resample beside the chunk.
    """
    rng = np.random.default_rng(seed)
    done = 0
    while done < draws:
        b = min(chunk, draws - done)
        weights = np.empty((n_units, b))
        for j in range(b):
            weights[:, j] = np.bincount(rng.integers(0, n_units, size=n_units), minlength=n_units)
        yield weights
        done += b


def _wsum(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted sums over units of per-unit statistics x ((units,) or (k, units)) for each draw in w.

    einsum rather than `@`: these are long, skinny products, which a multi-threaded BLAS runs far
    slower than one core does whenever the machine has other work (measured: 20x on two busy cores).
    """
    return np.einsum("...u,ub->...b", x, w)


def _divide(num: np.ndarray, den: np.ndarray, tol: float = 1e-12) -> np.ndarray:
    out = np.full(np.shape(num), np.nan)
    ok = np.abs(den) > tol
    np.divide(num, den, out=out, where=ok)
    return out


_WEIGHTS_MEMO: dict[tuple[int, int, int, int], list[np.ndarray]] = {}
_MEMO_CELLS = 50_000_000  # one byte a cell


def _weights(n_units: int, draws: int, seed: int, chunk: int) -> Iterable[np.ndarray]:
    """The bootstrap weights, remembered for the last shape: the fields of one form usually share
    their units, and regenerating the same draws for each would double the cost of a report."""
    key = (n_units, draws, seed, chunk)
    if key not in _WEIGHTS_MEMO:
        if n_units * draws > _MEMO_CELLS:
            return _chunks(n_units, draws, seed, chunk)
        exact = list(_chunks(n_units, draws, seed, chunk))
        if any(w.max() > 255 for w in exact):  # only with a handful of units: not worth remembering
            return exact
        weights = [w.astype(np.uint8) for w in exact]
        _WEIGHTS_MEMO.clear()
        _WEIGHTS_MEMO[key] = weights
    return (w.astype(float) for w in _WEIGHTS_MEMO[key])


def _run(prep: _Prepared, stats: list[StatFn], draws: int, seed: int, cells_per_draw: int) -> tuple[dict, dict]:
    """Point estimates (every unit weighted once) and bootstrap draws of every statistic in `stats`."""
    ones = np.ones((prep.n, 1))
    point = {name: float(v[0]) for fn in stats for name, v in fn(ones).items()}
    boot: dict[str, list[np.ndarray]] = {name: [] for name in point}
    if draws > 0 and prep.n > 0:
        for w in _weights(prep.n, draws, seed, _chunk(prep.n, cells_per_draw)):
            for fn in stats:
                for name, v in fn(w).items():
                    boot[name].append(v)
    return point, {name: np.concatenate(parts) if parts else np.array([]) for name, parts in boot.items()}


def _chunk(n_units: int, cells_per_draw: int) -> int:
    """How many draws a chunk of weights holds for a statistic of `cells_per_draw` cells a draw."""
    return max(1, min(_MAX_CHUNK, _CELLS_PER_CHUNK // max(cells_per_draw, n_units, 1)))


# The statistics of the jobs run together over one stream of draws hold about this much memory at most
# (as estimated by each job); more jobs of the same draws run in further passes.
_PASS_BYTES = 512 * 2**20

# A job's build: given a dict in which the jobs of a pass share prepared statistics (`_prepared`), its
# statistics and the function that turns their point estimates and draws into its result.
JobBuild: TypeAlias = "Callable[[dict], tuple[list[StatFn], Callable[[dict, dict], object]]]"


@dataclass(eq=False)
class _Job:
    """One report's bootstrap, to be run over the draws of `n_units` units in chunks of `chunk` with any
    other job over the same: the draws, and so the weights, depend on nothing else (seed and number of
    draws being the same), and each job sees exactly the weight matrices it would see alone."""

    n_units: int
    chunk: int
    cost: int  # bytes its statistics hold while it runs, estimated
    build: JobBuild
    result: object = None


def _run_jobs(jobs: Sequence[_Job], draws: int, seed: int) -> None:
    """Run every job, generating the weights of each (units, chunk) once for all the jobs that use them;
    each job's `result` is then what its statistics give. Jobs are built (their statistics computed)
    one pass at a time and dropped after it, so memory holds one pass's statistics, not all."""
    groups: dict[tuple[int, int], list[_Job]] = {}
    for job in jobs:
        groups.setdefault((job.n_units, job.chunk), []).append(job)
    for (n_units, chunk), group in groups.items():
        for part in _passes(group):
            shared: dict = {}
            built = [job.build(shared) for job in part]
            shared.clear()
            ones = np.ones((n_units, 1))
            points = [{name: float(v[0]) for fn in stats for name, v in fn(ones).items()} for stats, _ in built]
            boots: list[dict[str, list[np.ndarray]]] = [{name: [] for name in point} for point in points]
            if draws > 0 and n_units > 0:
                for w in _weights(n_units, draws, seed, chunk):
                    for (stats, _), boot in zip(built, boots, strict=True):
                        for fn in stats:
                            for name, v in fn(w).items():
                                boot[name].append(v)
            for job, (_, finish), point, boot in zip(part, built, points, boots, strict=True):
                job.result = finish(
                    point, {name: np.concatenate(parts) if parts else np.array([]) for name, parts in boot.items()}
                )
            del built


def _prepared(shared: dict, table: RatingsTable, level: str) -> _Prepared:
    """The prepared statistics of a table, made once for consecutive jobs of a pass on the same table
    (a report and its per-rater breakdown); only the last table's are kept, with the table itself so
    that its id is not reused while they are."""
    key = (id(table), level)
    if key not in shared:
        shared.clear()
        shared[key] = (table, _Prepared(table, level))
    return shared[key][1]


@dataclass(frozen=True)
class _Source:
    """The ratings a job reads when it runs, and what is known of them before: a slice's table is made
    only when its job runs, so that the tables of many slices are never held at once."""

    table: Callable[[], RatingsTable]
    n_units: int  # units with a rating
    n_values: int  # distinct values
    n_raters: int
    n_ratings: int

    @classmethod
    def of(cls, table: RatingsTable) -> _Source:
        rated = np.count_nonzero(np.bincount(table.unit_index, minlength=len(table.units)))
        return cls(lambda: table, int(rated), int(np.unique(table.values).size), len(table.raters), len(table.values))

    def cost(self) -> int:
        """Bytes a report's statistics hold while its draws run, roughly: a few per-unit arrays, one
        per value, and the coincidences of the units' ratings."""
        return 8 * self.n_units * (2 * self.n_values + 6) + 32 * self.n_ratings


def _passes(group: list[_Job]) -> Iterator[list[_Job]]:
    """The jobs in runs whose estimated memory stays within _PASS_BYTES (a larger job runs alone)."""
    part: list[_Job] = []
    held = 0
    for job in group:
        if part and held + job.cost > _PASS_BYTES:
            yield part
            part, held = [], 0
        part.append(job)
        held += job.cost
    if part:
        yield part


def _estimate(point: float, draws: np.ndarray, n_units: int, confidence: float, undefined: str | None) -> Estimate:
    if undefined is not None or not math.isfinite(point):
        return Estimate(None, None, None, n_units, undefined or "the coefficient cannot be computed on these ratings")
    finite = draws[np.isfinite(draws)]
    if draws.size == 0 or finite.size < _MIN_DEFINED_DRAWS * draws.size:
        return Estimate(point, None, None, n_units)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return Estimate(point, float(low), float(high), n_units)


def _jsonable(label: Hashable):
    if isinstance(label, np.integer):
        return int(label)
    return label if isinstance(label, str | int | float) or label is None else str(label)
