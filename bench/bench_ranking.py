"""Ranking engine speed on a round the size of MedInstruct: 216 prompts, 10 models, 1,000 draws.

Votes are simulated (known strengths, 10% ties, random sides and lengths), so the benchmark needs
no database and no data files.
"""

import math
import time

import numpy as np

from curation.stats.ranking import PairwiseVote, bradley_terry, pairwise_results

PROMPTS = 216
MODELS = 10
DRAWS = 1000
TARGET_SECONDS = 5.0


def _votes(schedule: str, seed: int = 0) -> list[PairwiseVote]:
    rng = np.random.default_rng(seed)
    strengths = np.linspace(-1.0, 1.0, MODELS)
    if schedule == "all pairs":
        pairs = [(i, j) for i in range(MODELS) for j in range(i + 1, MODELS)]
    else:
        pairs = [(i, 0) for i in range(1, MODELS)]
    votes = []
    for p in range(PROMPTS):
        for i, j in pairs:
            p_a = 0.9 / (1.0 + math.exp(strengths[j] - strengths[i]))
            u = rng.random()
            votes.append(
                PairwiseVote(
                    f"p{p}",
                    f"model-{i}",
                    f"model-{j}",
                    "a" if u < p_a else "tie" if u < p_a + 0.1 else "b",
                    length_a=float(rng.integers(100, 2000)),
                    length_b=float(rng.integers(100, 2000)),
                    a_side="left" if rng.random() < 0.5 else "right",
                )
            )
    return votes


def _best_of(repeats: int, call) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def run() -> str:
    lines = [
        "## Ranking engine (Bradley-Terry, win rates, bias diagnostics)",
        "",
        f"{PROMPTS} prompts, {MODELS} models, {DRAWS} bootstrap draws over prompts, seconds (best of 3).",
        "",
        "| schedule | votes | ratings with CIs | everything (ratings, win rates, position and length bias) |",
        "| --- | ---: | ---: | ---: |",
    ]
    worst = 0.0
    for schedule in ("against a reference", "all pairs"):
        votes = _votes(schedule)
        reference = "model-0" if schedule == "against a reference" else None
        ratings = _best_of(3, lambda v=votes, r=reference: bradley_terry(v, reference=r, draws=DRAWS))
        everything = _best_of(3, lambda v=votes, r=reference: pairwise_results(v, reference=r, draws=DRAWS))
        worst = max(worst, everything)
        lines.append(f"| {schedule} | {len(votes)} | {ratings:.2f} | {everything:.2f} |")
    verdict = "met" if worst <= TARGET_SECONDS else "NOT met"
    lines += ["", f"Target: the full analysis under {TARGET_SECONDS:g} s for either schedule ({verdict})."]
    return "\n".join(lines)
