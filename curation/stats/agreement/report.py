"""Every coefficient that fits a level, with bootstrap intervals, in one JSON-ready report."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence

from curation.stats.agreement.bootstrap import (
    CONFIDENCE,
    DRAWS,
    NO_VARIATION,
    SEED,
    RatingsTable,
    StatFn,
    _as_table,
    _chunk,
    _estimate,
    _Job,
    _jsonable,
    _Prepared,
    _prepared,
    _run_jobs,
    _Source,
)
from curation.stats.agreement.coefficients import (
    _alpha,
    _check,
    _cohen_pair,
    _common_undefined,
    _fleiss,
    _gwet,
    _percent_agreement,
)
from curation.stats.lazy import lazy_module

# numpy and scipy load at the first computation, not at every process start (curation.stats.lazy).
np = lazy_module("numpy")
sparse = lazy_module("scipy.sparse")


def agreement_report(
    matrix: np.ndarray | RatingsTable,
    level: str = "nominal",
    *,
    raters: Sequence[Hashable] | None = None,
    n_categories: int | None = None,
    draws: int = DRAWS,
    seed: int = SEED,
    confidence: float = CONFIDENCE,
    pairs: bool = True,
    max_pairs: int | None = None,
) -> dict:
    """Every coefficient that fits `level`, each with its bootstrap CI, as a JSON-ready dict.

    `n_categories` is the number of categories a nominal field offers (for Gwet's AC1); by default
    the number of distinct values seen. Cohen's kappa is given for every pair of raters who share a
    unit (`n_rater_pairs` of them), or, with `max_pairs`, for that many pairs sharing the most units:
    300 raters make 44,850 pairs, each with its own bootstrap.
    """
    job = _report_job(
        _Source.of(_as_table(matrix, level)),
        level,
        raters=raters,
        n_categories=n_categories,
        draws=draws,
        seed=seed,
        confidence=confidence,
        pairs=pairs,
        max_pairs=max_pairs,
    )
    _run_jobs([job], draws, seed)
    return job.result  # type: ignore[return-value]


def _report_job(
    source: _Source,
    level: str,
    *,
    raters: Sequence[Hashable] | None,
    n_categories: int | None,
    draws: int,
    seed: int,
    confidence: float,
    pairs: bool,
    max_pairs: int | None,
) -> _Job:
    """`agreement_report` as a job to run with others, its arguments checked now."""
    _check(draws, confidence)
    names = list(raters) if raters is not None else list(range(source.n_raters))
    if len(names) != source.n_raters:
        raise ValueError(f"{len(names)} rater names for {source.n_raters} columns")
    kinds = ["unweighted"] if level == "nominal" else ["unweighted", "linear", "quadratic"]

    def build(shared: dict):
        prep = _prepared(shared, source.table(), level)
        q = n_categories if n_categories is not None else prep.k
        stats: list[StatFn] = [_percent_agreement(prep), _alpha(prep), _fleiss(prep)]
        if level == "nominal":
            stats.append(_gwet(prep, max(q, 2)))
        pair_list, n_pairs = _rater_pairs(prep, kinds, stats, max_pairs) if pairs else ([], 0)

        # What the report says besides its estimates, kept rather than `prep`, which the pass drops.
        counts = {
            "level": level,
            "n_units": prep.n_pairable,
            "n_units_rated": prep.n,
            "n_raters": prep.n_raters,
            "n_ratings": int(prep.m.sum()),
        }
        common = _common_undefined(prep)
        no_variation = NO_VARIATION if prep.k < 2 else None
        fleiss_undefined = common or _fleiss_undefined(prep) or no_variation

        def finish(point: dict, boot: dict) -> dict:
            def est(name: str, undefined: str | None, n_units: int = counts["n_units"]) -> dict:
                return _estimate(point[name], boot[name], n_units, confidence, undefined).as_dict()

            report = {
                **counts,
                "draws": draws,
                "seed": seed,
                "confidence": confidence,
                "alpha": est("alpha", common or no_variation),
                "percent_agreement": est("percent_agreement", common),
                "fleiss_kappa": est("fleiss_kappa", fleiss_undefined),
            }
            if level == "nominal":
                report["gwet_ac1"] = est("gwet_ac1", common or ("only one category" if q < 2 else None))
            report["n_rater_pairs"] = n_pairs
            report["cohen_kappa"] = [_cohen_entry(names, a, b, n, kinds, point, est) for a, b, n in pair_list]
            return report

        return stats, finish

    # The chunk of draws follows the cells a draw holds (values^2 for each pair kept) once they
    # outnumber the units; below that only the units count, and the pairs need not be found now.
    n_units, square = source.n_units, source.n_values * source.n_values
    cells = square
    if pairs:
        most = source.n_raters * (source.n_raters - 1) // 2
        cells *= max(1, most if max_pairs is None else min(max_pairs, most))
        if cells > n_units:  # few units: find the pairs (a small table, prepared twice)
            kept = _rater_pairs(_Prepared(source.table(), level), kinds, [], max_pairs)[0]
            cells = square * max(1, len(kept))
    return _Job(n_units, _chunk(n_units, cells), source.cost(), build)


def _rater_pairs(
    prep: _Prepared, kinds: list[str], stats: list[StatFn], max_pairs: int | None
) -> tuple[list[tuple[int, int, int]], int]:
    """(a, b, shared units) for the pairs of raters who rated a unit in common (the `max_pairs` sharing
    the most, if given), in rater order, and how many such pairs there are; adds their kappas to `stats`."""
    incidence = sparse.csr_matrix(
        (np.ones(prep.rater_unit.size, dtype=np.int64), (prep.rater_of_rating(), prep.rater_unit)),
        shape=(prep.n_raters, prep.n),
    )
    # Every pair's shared units in one sparse product: work grows with the pairs within units, not with
    # raters x units.
    shared = sparse.triu(incidence @ incidence.T, k=1).tocoo()
    order = np.lexsort((shared.col, shared.row))  # pairs in rater order, as combinations() gives them
    a_of, b_of, n_of = shared.row[order], shared.col[order], shared.data[order]
    keep = n_of > 0
    a_of, b_of, n_of = a_of[keep], b_of[keep], n_of[keep]
    chosen = np.arange(n_of.size)
    if max_pairs is not None and n_of.size > max_pairs:
        chosen = np.sort(np.argsort(-n_of, kind="stable")[:max_pairs])
    kept = [(int(a_of[i]), int(b_of[i]), int(n_of[i])) for i in chosen]
    for a, b, _ in kept:
        stats.append(_cohen_pair(prep, a, b, kinds)[0])
    return kept, int(n_of.size)


def _fleiss_undefined(prep: _Prepared) -> str | None:
    if prep.same_size:
        return None
    low, high = prep.size_range
    return (
        f"units have different numbers of ratings ({low} to {high}); Fleiss' kappa needs the same number for every unit"
    )


def _cohen_entry(names: list, a: int, b: int, shared: int, kinds: list[str], point: dict, est) -> dict:
    undefined = "the two raters share fewer than two units" if shared < 2 else None
    entry = {"raters": [_jsonable(names[a]), _jsonable(names[b])], "n_units": shared}
    for kind in kinds:
        name = f"cohen:{a}:{b}:{kind}"
        why = undefined
        if why is None and not math.isfinite(point[name]):
            why = "both raters gave one and the same value throughout, so chance agreement is total"
        entry[kind] = est(name, why, shared)
    return entry
