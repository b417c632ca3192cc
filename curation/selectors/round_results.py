"""Reads of a round's results: the votes and scores, the results (computed by curation.stats.ranking),
the agreement between its reviewers, and the majority pairs releases export.

Pairwise answers are recorded as the reviewer saw them: "a" is the answer shown on the left, "b" the
one on the right. Everything that counts votes in Python goes through `verdict_for_models`, which maps
the sides back to the models with the slot's left/right record; `round_majority_items` does the same
mapping in SQL for exports, which must stream rather than load a round.

"Both bad" counts as a tie in ratings and win rates (each answer got the same, low, verdict) and is
never exported as a preference.

A worker computes the results and the pages show them with their age: curation.services.round_results.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from curation.models import EvaluationRound, Judgment, Prompt, RoundItem, RubricGrade
from curation.schemas.definitions import field_level, field_options, prompt_rubric_field
from curation.selectors.rounds import round_progress
from curation.selectors.rubrics import (
    ResponseMarks,
    criterion_agreement,
    leaderboard_of,
    leaderboard_tags,
    response_marks,
)
from curation.stats import ranking
from curation.stats.agreement import agreement_report, ratings_from_rows
from curation.stats.rubrics import NO_SCORES, SetScore

PAIRWISE_VERDICTS = ("a", "b", "tie", "both_bad")
# Bootstrap draws for the results page; breakdowns use fewer because there are many of them.
RESULT_DRAWS = 1000
BREAKDOWN_DRAWS = 300


def round_judgments(*, evaluation_round: EvaluationRound) -> QuerySet[Judgment]:
    return Judgment.objects.filter(round=evaluation_round).select_related(
        "item__prompt", "item__response_a", "item__response_b", "left_response", "right_response"
    )


def verdict_for_models(judgment: Judgment, field: dict) -> str | None:
    """The verdict on the item's response_a / response_b ("a", "b", "tie", "both_bad") from the
    reviewer's left/right answer, with reversed questions ("which is more harmful") turned round."""
    value = judgment.answers.get(field["key"])
    if value not in PAIRWISE_VERDICTS:
        return None
    if value in ("a", "b"):
        left_is_a = judgment.left_response_id == judgment.item.response_a_id
        picked_a = (value == "a") == left_is_a
        if field.get("reverse"):
            picked_a = not picked_a
        return "a" if picked_a else "b"
    return value


def _prompt_key(prompt: Prompt) -> str:
    return prompt.external_id or f"prompt-{prompt.pk}"


def pairwise_axes(evaluation_round: EvaluationRound) -> list[dict]:
    return [f for f in evaluation_round.schema.fields if f["kind"] == "pairwise_choice"]


def round_votes(*, evaluation_round: EvaluationRound, axis: str, judgments: Iterable[Judgment] | None = None) -> list:
    """The round's pairwise votes on one axis as the statistics engine takes them."""
    field = next((f for f in pairwise_axes(evaluation_round) if f["key"] == axis), None)
    if field is None:
        raise ValidationError(f"{axis!r} is not a pairwise axis of this round's form.")
    votes = []
    for judgment in judgments if judgments is not None else round_judgments(evaluation_round=evaluation_round):
        verdict = verdict_for_models(judgment, field)
        if verdict is None:
            continue
        item = judgment.item
        votes.append(
            ranking.PairwiseVote(
                prompt=_prompt_key(item.prompt),
                model_a=item.response_a.model_name,
                model_b=item.response_b.model_name,
                winner="tie" if verdict == "both_bad" else verdict,
                length_a=float(len(item.response_a.text)),
                length_b=float(len(item.response_b.text)),
                a_side="left" if judgment.left_response_id == item.response_a_id else "right",
            )
        )
    return votes


def _numeric_fields(evaluation_round: EvaluationRound) -> list[dict]:
    return [f for f in evaluation_round.schema.fields if f["kind"] in ("ordinal_scale", "number")]


def round_scores(*, evaluation_round: EvaluationRound, judgments: Iterable[Judgment] | None = None) -> list:
    """Absolute-mode scores on every numeric axis (scales and numbers) of the response form."""
    fields = _numeric_fields(evaluation_round)
    scores = []
    for judgment in judgments if judgments is not None else round_judgments(evaluation_round=evaluation_round):
        for field in fields:
            value = judgment.answers.get(field["key"])
            if isinstance(value, int | float) and not isinstance(value, bool):
                scores.append(
                    ranking.AbsoluteScore(
                        prompt=_prompt_key(judgment.item.prompt),
                        model=judgment.item.response_a.model_name,
                        axis=field["key"],
                        score=float(value),
                    )
                )
    return scores


def _pairwise_block(evaluation_round: EvaluationRound, votes: list, draws: int) -> dict:
    if not votes:
        return {"votes": 0, "reason": "no judgment on this axis yet"}
    models = {v.model_a for v in votes} | {v.model_b for v in votes}
    reference = evaluation_round.reference_model if evaluation_round.reference_model in models else None
    return ranking.pairwise_results(votes, reference=reference, draws=draws, seed=evaluation_round.seed)


def _agreement(evaluation_round: EvaluationRound, judgments: list[Judgment]) -> list[dict]:
    """Agreement per axis over items judged by two or more reviewers, on model-relative verdicts."""
    rows_by_field: list[tuple[dict, str, list, list | None]] = []
    if evaluation_round.is_pairwise:
        for field in pairwise_axes(evaluation_round):
            rows = [(j.item_id, j.reviewer_id, verdict_for_models(j, field)) for j in judgments]
            rows_by_field.append((field, "nominal", rows, list(PAIRWISE_VERDICTS)))
    else:
        for field in evaluation_round.schema.fields:
            level = field_level(field)
            if field["kind"] in ("ordinal_scale", "number"):
                rows = [(j.item_id, j.reviewer_id, j.answers.get(field["key"])) for j in judgments]
                rows_by_field.append((field, level, rows, None))
            elif field["kind"] == "single_choice":
                order = [o["value"] for o in field_options(field)]
                rows = [(j.item_id, j.reviewer_id, j.answers.get(field["key"])) for j in judgments]
                rows_by_field.append((field, level, rows, order))
    result = []
    for field, level, rows, order in rows_by_field:
        table = ratings_from_rows(rows, order=order)
        entry = {"axis": field["key"], "label": field.get("label", field["key"]), "level": level}
        if table.matrix.size == 0:
            result.append(entry | {"undefined": "no judgment yet"})
            continue
        report = agreement_report(
            table.matrix,
            level,
            raters=table.raters,
            n_categories=len(order) if order else None,
            draws=200,
            seed=evaluation_round.seed,
            pairs=False,
        )
        result.append(entry | {"report": report})
    if evaluation_round.grades_rubric and not evaluation_round.is_pairwise:
        result.append(_rubric_agreement(evaluation_round))
    return result


def _rubric_agreement(evaluation_round: EvaluationRound) -> dict[str, Any]:
    """The round's graders on each criterion of each response they graded: met or not met, nominal."""
    field = prompt_rubric_field(evaluation_round.schema.definition)
    entry = {
        "axis": field["key"],
        "label": f"{field.get('label') or field['key']}: each criterion met or not met (items are criteria)",
        "level": "nominal",
    }
    overall = criterion_agreement(
        project=evaluation_round.project,
        draws=200,
        within=RubricGrade.objects.filter(judgments__round=evaluation_round),
    ).get("all")
    return entry | ({"report": overall} if overall else {"undefined": "no criterion graded yet"})


def round_agreement(*, evaluation_round: EvaluationRound) -> list[dict]:
    """Agreement between the round's reviewers per axis (as on the results page), on its judgments so far."""
    return _agreement(evaluation_round, list(round_judgments(evaluation_round=evaluation_round)))


def _difficulty_breakdown(evaluation_round: EvaluationRound, judgments: list[Judgment]) -> list[dict]:
    """Results per prompt difficulty (prompts carry no topic, so difficulty is the breakdown there is)."""
    by_difficulty: dict[int, list[Judgment]] = defaultdict(list)
    for judgment in judgments:
        if judgment.item.prompt.difficulty is not None:
            by_difficulty[judgment.item.prompt.difficulty].append(judgment)
    breakdown = []
    for difficulty in sorted(by_difficulty):
        subset = by_difficulty[difficulty]
        entry: dict[str, Any] = {"difficulty": difficulty, "judgments": len(subset)}
        if evaluation_round.is_pairwise:
            axis = pairwise_axes(evaluation_round)[0]["key"]
            votes = round_votes(evaluation_round=evaluation_round, axis=axis, judgments=subset)
            entry["axis"] = axis
            entry["results"] = _pairwise_block(evaluation_round, votes, BREAKDOWN_DRAWS) if votes else None
        else:
            scores = round_scores(evaluation_round=evaluation_round, judgments=subset)
            entry["scores"] = (
                ranking.absolute_scores(scores, draws=BREAKDOWN_DRAWS, seed=evaluation_round.seed) if scores else []
            )
        breakdown.append(entry)
    return breakdown


def round_results_header(evaluation_round: EvaluationRound) -> dict[str, Any]:
    """The round's definition and progress: what can change without a new judgment."""
    return {
        "round": {
            "id": evaluation_round.pk,
            "name": evaluation_round.name,
            "mode": evaluation_round.mode,
            "pairing": evaluation_round.pairing,
            "status": evaluation_round.status,
            "models": evaluation_round.compared_models,
            "reference_model": evaluation_round.reference_model or None,
            "judgments_per_item": evaluation_round.judgments_per_item,
            "seed": evaluation_round.seed,
            "grades_rubric": evaluation_round.grades_rubric,
        },
        "progress": round_progress(evaluation_round=evaluation_round),
    }


def round_results(*, evaluation_round: EvaluationRound, draws: int = RESULT_DRAWS) -> dict[str, Any]:
    """Everything the results page, the API and the CSV show, computed by curation.stats.ranking."""
    judgments = list(round_judgments(evaluation_round=evaluation_round))
    results: dict[str, Any] = {
        **round_results_header(evaluation_round),
        "judgments": len(judgments),
        "axes": [],
        "scores": [],
    }
    if evaluation_round.is_pairwise:
        for field in pairwise_axes(evaluation_round):
            votes = round_votes(evaluation_round=evaluation_round, axis=field["key"], judgments=judgments)
            both_bad = sum(1 for j in judgments if j.answers.get(field["key"]) == "both_bad")
            results["axes"].append(
                {
                    "axis": field["key"],
                    "label": field.get("label", field["key"]),
                    "reversed": bool(field.get("reverse")),
                    "both_bad": both_bad,
                    **_pairwise_block(evaluation_round, votes, draws),
                }
            )
    else:
        scores = round_scores(evaluation_round=evaluation_round, judgments=judgments)
        labels = {f["key"]: f.get("label", f["key"]) for f in _numeric_fields(evaluation_round)}
        if scores:
            for row in ranking.absolute_scores(scores, draws=draws, seed=evaluation_round.seed):
                results["scores"].append(row | {"label": labels.get(row["axis"], row["axis"])})
    results["rubric"] = _rubric_leaderboard(evaluation_round, draws)
    results["by_difficulty"] = _difficulty_breakdown(evaluation_round, judgments)
    results["agreement"] = _agreement(evaluation_round, judgments)
    return results


def _latest_version_per_response(entries: list[ResponseMarks]) -> list[ResponseMarks]:
    """One entry per response: a response graded on two versions of its rubric in one round (edited and
    accepted again meanwhile) counts once, on the later version."""
    latest: dict[int, ResponseMarks] = {}
    for entry in entries:
        kept = latest.get(entry.response.pk)
        if kept is None or entry.version.number > kept.version.number:
            latest[entry.response.pk] = entry
    return list(latest.values())


def _rubric_leaderboard(evaluation_round: EvaluationRound, draws: int) -> dict[str, Any] | None:
    """For a round that grades rubrics: each compared model's rubric score over the round's responses, each
    scored on the majority marks of the round's graders (the grades its judgments recorded), as the
    clipped mean with its bootstrap interval, overall, per axis and per theme (curation.stats.rubrics)."""
    if not evaluation_round.grades_rubric:
        return None
    entries = response_marks(
        project=evaluation_round.project, within=RubricGrade.objects.filter(judgments__round=evaluation_round)
    )
    board = {
        s.model: s
        for s in leaderboard_of(_latest_version_per_response(entries), draws=draws, seed=evaluation_round.seed)
    }
    axes, themes = leaderboard_tags(board.values(), "axis:"), leaderboard_tags(board.values(), "theme:")
    none = SetScore(value=None, undefined=NO_SCORES)
    models = []
    for name in evaluation_round.model_names:
        scores = board.get(name)
        by_tag = scores.by_tag if scores else {}
        models.append(
            {
                "model": name,
                "overall": asdict(scores.overall if scores else none),
                "by_axis": {tag: asdict(by_tag.get(tag, none)) for tag in axes},
                "by_theme": {tag: asdict(by_tag.get(tag, none)) for tag in themes},
            }
        )
    models.sort(key=lambda m: (m["overall"]["value"] is None, -(m["overall"]["value"] or 0), m["model"]))
    return {
        "graded_responses": sum(m["overall"]["n"] for m in models),
        "axes": axes,
        "themes": themes,
        "models": models,
    }


def _pairwise_rounds_by_direction(rounds: Iterable[EvaluationRound], axis: str) -> tuple[list[int], list[int]]:
    """Ids of the pairwise rounds whose `axis` asks which answer is better, and of those where it asks
    which is worse (reversed)."""
    straight, reversed_ = [], []
    for evaluation_round in rounds:
        if not evaluation_round.is_pairwise:
            continue
        field = next((f for f in pairwise_axes(evaluation_round) if f["key"] == axis), None)
        if field is None:
            raise ValidationError(f"{axis!r} is not a pairwise axis of the form of round {evaluation_round.name!r}.")
        (reversed_ if field.get("reverse") else straight).append(evaluation_round.pk)
    return straight, reversed_


def _judgment_count(condition: Q) -> Coalesce:
    """The number of judgments of the outer query's item that meet `condition`, as a subquery."""
    counted = (
        Judgment.objects.filter(item=OuterRef("pk"))
        .filter(condition)
        .order_by()
        .values("item")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def round_majority_items(
    *, rounds: Iterable[EvaluationRound], axis: str = "overall", min_judgments: int = 2
) -> QuerySet[RoundItem]:
    """The pairwise items of `rounds` with a clear majority on `axis`, counted in the database.

    An item qualifies when it has at least `min_judgments` judgments and strictly more than half of
    them (ties, "both bad" and unanswered included in the count) picked the same model. Each item is
    annotated with `judgment_count`, `votes_a` and `votes_b` (votes for response_a's and response_b's
    model), in (round, item) order. Votes are mapped from sides to models here exactly as
    `verdict_for_models` maps them: a vote for the left answer is a vote for the response shown
    left, turned round on a reversed question ("which is more harmful").
    Raises ValidationError when a round's form has no such pairwise axis.
    """
    straight, reversed_ = _pairwise_rounds_by_direction(rounds, axis)

    # A vote for the item's response in `column`: "a" (left) when it was shown left, "b" (right) when
    # it was shown right; on a reversed question, the other way round.
    def for_response(column: str) -> Coalesce:
        answer = f"answers__{axis}"
        picked = Q(pk__in=[])
        for round_ids, if_left, if_right in ((straight, "a", "b"), (reversed_, "b", "a")):
            if round_ids:
                picked |= Q(round_id__in=round_ids, **{answer: if_left}, left_response_id=OuterRef(column))
                picked |= Q(round_id__in=round_ids, **{answer: if_right}, right_response_id=OuterRef(column))
        return _judgment_count(picked)

    return (
        RoundItem.objects.filter(round_id__in=[*straight, *reversed_], response_b__isnull=False)
        .annotate(
            judgment_count=_judgment_count(Q()),
            votes_a=for_response("response_a_id"),
            votes_b=for_response("response_b_id"),
        )
        .annotate(twice_a=F("votes_a") * 2, twice_b=F("votes_b") * 2)
        .filter(judgment_count__gte=max(1, min_judgments))
        .filter(Q(twice_a__gt=F("judgment_count")) | Q(twice_b__gt=F("judgment_count")))
        .order_by("round_id", "pk")
    )
