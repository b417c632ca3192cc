"""Human-evaluation rounds: setup and freezing, scheduling, judging, and results."""

from collections import Counter
from itertools import combinations

import pytest
from django.core.exceptions import ValidationError

from curation.formats.writers.round_pairs import round_pair_rows
from curation.models import Judgment, RoundItem, RoundPairing, RoundSlot, RoundStatus
from curation.selectors.round_judging import round_next_slot
from curation.selectors.round_results import round_majority_items, round_results, round_votes
from curation.services.round_judging import judgment_submit
from curation.services.round_schedules import round_freeze
from curation.services.rounds import round_create
from curation.stats import ranking
from tests.factories import ClinicianFactory, MembershipFactory, ModelResponseFactory, PromptFactory
from tests.markers import on_postgres

MODELS = ("alpha-7b", "beta-13b", "gamma-70b")


def majority_pairs(evaluation_round):
    """The round's preference pairs on "overall", as a preference release reads them."""
    return round_pair_rows(items=round_majority_items(rounds=[evaluation_round]), axis="overall")


def overall(verdict: str) -> dict:
    return {"overall": verdict, "correctness": verdict, "helpfulness": verdict, "harm": "tie"}


@pytest.fixture
def prompts(project):
    made = []
    for n in range(8):
        prompt = PromptFactory(project=project, input="", difficulty=1 + n % 3)
        for m, model in enumerate(MODELS):
            ModelResponseFactory(
                prompt=prompt, seed_task=None, model_name=model, model_version="1", text=f"{model} " + "x" * (10 * m)
            )
        made.append(prompt)
    return made


@pytest.fixture
def reviewers(project, clinician):
    others = [ClinicianFactory() for _ in range(3)]
    for user in others:
        MembershipFactory(project=project, user=user)
    return [clinician, *others]


def make_round(project, curator, reviewers, **overrides):
    options = {
        "project": project,
        "created_by": curator,
        "name": "Round 1",
        "mode": "pairwise",
        "models": list(MODELS),
        "reviewers": reviewers,
        "judgments_per_item": 2,
    }
    return round_create(**(options | overrides))


def judge_all(evaluation_round, choose):
    """Every reviewer judges every slot; `choose(slot)` gives the answers."""
    for reviewer in evaluation_round.reviewers.all():
        while (slot := round_next_slot(evaluation_round=evaluation_round, reviewer=reviewer)) is not None:
            judgment_submit(slot=slot, reviewer=reviewer, answers=choose(slot))


class TestSetupAndFreeze:
    def test_a_round_takes_only_prompts_every_model_answered(self, project, curator, reviewers, prompts):
        lonely = PromptFactory(project=project, input="")
        ModelResponseFactory(prompt=lonely, seed_task=None, model_name="alpha-7b")
        evaluation_round = make_round(project, curator, reviewers)
        assert set(evaluation_round.round_prompts.values_list("prompt_id", flat=True)) == {p.pk for p in prompts}

    def test_a_seeded_sample_is_reproducible(self, project, curator, reviewers, prompts):
        first = make_round(project, curator, reviewers, name="A", sample_size=3, seed=7)
        second = make_round(project, curator, reviewers, name="B", sample_size=3, seed=7)
        ids = lambda r: sorted(r.round_prompts.values_list("prompt_id", flat=True))  # noqa: E731
        assert len(ids(first)) == 3
        assert ids(first) == ids(second)

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"name": " "}, "name"),
            ({"models": ["alpha-7b"]}, "models"),
            ({"models": ["alpha-7b", "alpha-7b"]}, "models"),
            ({"models": ["alpha-7b", "nobody-1b"]}, "models"),
            ({"reference_model": "delta"}, "reference_model"),
            ({"pairing": RoundPairing.VS_REFERENCE}, "reference_model"),
            ({"judgments_per_item": 5}, "judgments_per_item"),
            ({"mode": "vibes"}, "mode"),
        ],
    )
    def test_a_bad_definition_is_refused_with_a_message_and_creates_nothing(
        self, project, curator, reviewers, prompts, overrides, field
    ):
        with pytest.raises(ValidationError) as error:
            make_round(project, curator, reviewers, **overrides)
        assert field in error.value.message_dict
        assert not project.evaluation_rounds.exists()

    def test_reviewers_must_belong_to_the_project(self, project, curator, reviewers, prompts, outsider):
        with pytest.raises(ValidationError, match="members of the project"):
            make_round(project, curator, [*reviewers, outsider])

    def test_a_frozen_round_cannot_be_frozen_again(self, project, curator, reviewers, prompts):
        evaluation_round = round_freeze(evaluation_round=make_round(project, curator, reviewers))
        assert evaluation_round.status == RoundStatus.FROZEN and evaluation_round.frozen_at
        slots = RoundSlot.objects.filter(round=evaluation_round).count()
        with pytest.raises(ValidationError, match="can no longer change"):
            round_freeze(evaluation_round=evaluation_round)
        assert RoundSlot.objects.filter(round=evaluation_round).count() == slots

    def test_freezing_refuses_when_an_answer_disappeared_since_setup(self, project, curator, reviewers, prompts):
        evaluation_round = make_round(project, curator, reviewers)
        prompts[0].responses.filter(model_name="beta-13b").delete()
        with pytest.raises(ValidationError, match="are gone"):
            round_freeze(evaluation_round=evaluation_round)
        evaluation_round.refresh_from_db()
        assert evaluation_round.status == RoundStatus.DRAFT and not evaluation_round.items.exists()

    def test_a_judged_answer_cannot_be_deleted_but_its_round_can(self, project, curator, reviewers, prompts):
        from django.db.models import RestrictedError

        evaluation_round = round_freeze(evaluation_round=make_round(project, curator, reviewers))
        judge_all(evaluation_round, lambda slot: overall("a"))
        with pytest.raises(RestrictedError):
            prompts[0].responses.first().delete()
        evaluation_round.delete()
        assert not Judgment.objects.exists() and not RoundItem.objects.exists()
        assert prompts[0].responses.count() == len(MODELS)


class TestScheduling:
    def test_every_pair_of_models_is_scheduled_on_every_prompt(self, project, curator, reviewers, prompts):
        evaluation_round = round_freeze(evaluation_round=make_round(project, curator, reviewers))
        pairs = Counter(
            tuple(sorted(names))
            for names in RoundItem.objects.filter(round=evaluation_round).values_list(
                "response_a__model_name", "response_b__model_name"
            )
        )
        assert pairs == dict.fromkeys(combinations(sorted(MODELS), 2), len(prompts))

    def test_against_a_reference_each_model_meets_only_the_reference(self, project, curator, reviewers, prompts):
        evaluation_round = make_round(
            project, curator, reviewers, reference_model="beta-13b", pairing=RoundPairing.VS_REFERENCE
        )
        round_freeze(evaluation_round=evaluation_round)
        items = RoundItem.objects.filter(round=evaluation_round)
        assert items.count() == 2 * len(prompts)
        assert all(item.response_a.model_name == "beta-13b" for item in items)

    def test_each_item_gets_k_judgments_from_k_different_reviewers(self, project, curator, reviewers, prompts):
        evaluation_round = round_freeze(evaluation_round=make_round(project, curator, reviewers, judgments_per_item=3))
        per_item = Counter(RoundSlot.objects.filter(round=evaluation_round).values_list("item_id", flat=True))
        assert set(per_item.values()) == {3}
        distinct = Counter(
            RoundSlot.objects.filter(round=evaluation_round).values_list("item_id", "reviewer_id").distinct()
        )
        assert len(distinct) == 3 * len(per_item)

    def test_the_load_is_balanced_across_reviewers(self, project, curator, reviewers, prompts):
        evaluation_round = round_freeze(evaluation_round=make_round(project, curator, reviewers, judgments_per_item=3))
        load = Counter(RoundSlot.objects.filter(round=evaluation_round).values_list("reviewer_id", flat=True))
        assert max(load.values()) - min(load.values()) <= 1

    def test_sides_are_counterbalanced_per_item_and_per_pair(self, project, curator, reviewers, prompts):
        evaluation_round = round_freeze(evaluation_round=make_round(project, curator, reviewers, judgments_per_item=2))
        slots = RoundSlot.objects.filter(round=evaluation_round).select_related("item")
        left_models_per_item: dict[int, set] = {}
        for slot in slots:
            left_models_per_item.setdefault(slot.item_id, set()).add(slot.left_response_id)
        # With two judgments each answer of an item is shown on the left once.
        assert all(len(left) == 2 for left in left_models_per_item.values())

    def test_with_one_judgment_per_item_each_model_is_left_half_the_time(self, project, curator, reviewers, prompts):
        evaluation_round = round_freeze(evaluation_round=make_round(project, curator, reviewers, judgments_per_item=1))
        a_left = Counter()
        for slot in RoundSlot.objects.filter(round=evaluation_round).select_related("item__response_a"):
            pair = (slot.item.response_a.model_name, slot.item.response_b.model_name)
            a_left[pair] += 1 if slot.left_response_id == slot.item.response_a_id else -1
        assert all(abs(balance) <= 1 for balance in a_left.values())

    def test_a_reviewer_is_never_given_the_same_item_twice(self, project, curator, reviewers, prompts):
        evaluation_round = round_freeze(evaluation_round=make_round(project, curator, reviewers, judgments_per_item=4))
        reviewer = reviewers[0]
        seen = []
        while (slot := round_next_slot(evaluation_round=evaluation_round, reviewer=reviewer)) is not None:
            seen.append(slot.item_id)
            judgment_submit(slot=slot, reviewer=reviewer, answers=overall("a"))
        assert len(seen) == len(set(seen)) == RoundItem.objects.filter(round=evaluation_round).count()


class TestJudging:
    def test_a_draft_round_gives_no_item(self, project, curator, reviewers, prompts):
        evaluation_round = make_round(project, curator, reviewers)
        assert round_next_slot(evaluation_round=evaluation_round, reviewer=reviewers[0]) is None

    def test_answers_are_checked_against_the_form_and_bad_ones_change_nothing(
        self, project, curator, reviewers, prompts
    ):
        evaluation_round = round_freeze(evaluation_round=make_round(project, curator, reviewers))
        slot = round_next_slot(evaluation_round=evaluation_round, reviewer=reviewers[0])
        with pytest.raises(ValidationError) as error:
            judgment_submit(slot=slot, reviewer=reviewers[0], answers={"overall": "left"})
        assert "overall" in error.value.message_dict and "harm" in error.value.message_dict
        assert not Judgment.objects.exists()

    def test_submitting_twice_is_idempotent_and_a_changed_answer_is_refused(self, project, curator, reviewers, prompts):
        evaluation_round = round_freeze(evaluation_round=make_round(project, curator, reviewers))
        slot = round_next_slot(evaluation_round=evaluation_round, reviewer=reviewers[0])
        first, created = judgment_submit(slot=slot, reviewer=reviewers[0], answers=overall("a"))
        again, created_again = judgment_submit(slot=slot, reviewer=reviewers[0], answers=overall("a"))
        assert created and not created_again and first.pk == again.pk
        with pytest.raises(ValidationError, match="cannot be changed"):
            judgment_submit(slot=slot, reviewer=reviewers[0], answers=overall("b"))
        assert Judgment.objects.get().answers["overall"] == "a"

    def test_a_reviewer_cannot_submit_someone_elses_slot(self, project, curator, reviewers, prompts):
        evaluation_round = round_freeze(evaluation_round=make_round(project, curator, reviewers))
        slot = round_next_slot(evaluation_round=evaluation_round, reviewer=reviewers[0])
        with pytest.raises(ValidationError, match="another reviewer"):
            judgment_submit(slot=slot, reviewer=reviewers[1], answers=overall("a"))


class TestVotesMapBackToModels:
    def test_a_vote_for_the_left_answer_counts_for_the_model_shown_left(self, project, curator, reviewers, prompts):
        evaluation_round = round_freeze(evaluation_round=make_round(project, curator, reviewers))
        judge_all(evaluation_round, lambda slot: overall("a"))
        left_models = {
            j.pk: (j.left_response.model_name, j.right_response.model_name)
            for j in Judgment.objects.select_related("left_response", "right_response")
        }
        votes = round_votes(evaluation_round=evaluation_round, axis="overall")
        assert len(votes) == len(left_models)
        for vote in votes:
            winner = vote.model_a if vote.winner == "a" else vote.model_b
            shown_left = vote.model_a if vote.a_side == "left" else vote.model_b
            assert winner == shown_left

    def test_the_better_model_wins_whatever_side_it_was_shown_on(self, project, curator, reviewers, prompts):
        evaluation_round = round_freeze(evaluation_round=make_round(project, curator, reviewers))
        rank = {name: n for n, name in enumerate(MODELS)}

        def prefer_bigger(slot):
            left, right = slot.left_response.model_name, slot.right_response.model_name
            verdict = "a" if rank[left] > rank[right] else "b"
            # "Which is more harmful": the smaller model, so the bigger one wins the harm axis too.
            return overall(verdict) | {"harm": "b" if verdict == "a" else "a"}

        judge_all(evaluation_round, prefer_bigger)
        results = round_results(evaluation_round=evaluation_round, draws=50)
        for axis in results["axes"]:
            ratings = {r["model"]: r for r in axis["bradley_terry"]["ratings"]}
            order = sorted(MODELS, key=lambda m: ratings[m]["rating"] or 0)
            wins = {row["model"]: row for row in axis["win_rates"]["models"]}
            assert wins["gamma-70b"]["win_rate"] == 1.0 and wins["alpha-7b"]["win_rate"] == 0.0, axis["axis"]
            assert order[-1] == "gamma-70b" or ratings["gamma-70b"]["status"] == "plus_infinity"

    def test_results_match_the_statistics_engine_called_directly(self, project, curator, reviewers, prompts):
        evaluation_round = round_freeze(
            evaluation_round=make_round(project, curator, reviewers, reference_model="alpha-7b")
        )
        verdicts = iter(["a", "b", "tie", "a", "both_bad", "a", "b", "a"] * 20)
        judge_all(evaluation_round, lambda slot: overall(next(verdicts)))
        results = round_results(evaluation_round=evaluation_round, draws=200)
        votes = round_votes(evaluation_round=evaluation_round, axis="overall")
        direct = ranking.pairwise_results(votes, reference="alpha-7b", draws=200, seed=evaluation_round.seed)
        axis = next(a for a in results["axes"] if a["axis"] == "overall")
        assert axis["bradley_terry"] == direct["bradley_terry"]
        assert axis["win_rates"] == direct["win_rates"]
        assert axis["position_bias"] == direct["position_bias"]
        assert axis["both_bad"] == sum(1 for j in Judgment.objects.all() if j.answers["overall"] == "both_bad")

    def test_both_bad_counts_as_a_tie(self, project, curator, reviewers, prompts):
        evaluation_round = round_freeze(evaluation_round=make_round(project, curator, reviewers))
        judge_all(evaluation_round, lambda slot: overall("both_bad"))
        assert {v.winner for v in round_votes(evaluation_round=evaluation_round, axis="overall")} == {"tie"}

    def test_absolute_mode_reports_mean_scores_with_intervals(self, project, curator, reviewers, prompts):
        evaluation_round = round_freeze(
            evaluation_round=make_round(project, curator, reviewers, mode="absolute", name="Absolute")
        )
        score = {"alpha-7b": 2, "beta-13b": 3, "gamma-70b": 5}
        base = {
            "consensus": "aligned",
            "inappropriate_content": "none",
            "missing_content": "none",
            "harm_extent": "none",
            "harm_likelihood": "low",
            "bias": "no",
        }
        judge_all(
            evaluation_round,
            lambda slot: base | dict.fromkeys(("correctness", "helpfulness"), score[slot.left_response.model_name]),
        )
        results = round_results(evaluation_round=evaluation_round, draws=50)
        means = {(row["model"], row["axis"]): row for row in results["scores"]}
        assert means[("gamma-70b", "correctness")]["mean"] == 5.0
        assert means[("alpha-7b", "helpfulness")]["ci_low"] == 2.0
        assert results["by_difficulty"] and results["agreement"]


class TestPreferencePairs:
    def test_only_items_with_a_clear_majority_become_pairs(self, project, curator, reviewers, prompts):
        evaluation_round = round_freeze(evaluation_round=make_round(project, curator, reviewers, judgments_per_item=3))
        # Every reviewer prefers gamma whenever it is shown; on other items one vote in three picks a side.
        state = Counter()

        def choose(slot):
            left, right = slot.left_response.model_name, slot.right_response.model_name
            if "gamma-70b" in (left, right):
                return overall("a" if left == "gamma-70b" else "b")
            state[slot.item_id] += 1
            return overall(["a", "tie", "both_bad"][state[slot.item_id] % 3])

        judge_all(evaluation_round, choose)
        pairs = list(majority_pairs(evaluation_round))
        assert pairs and all(p["chosen_model"] == "gamma-70b" for p in pairs)
        assert len(pairs) == 2 * len(prompts)
        assert {"prompt", "chosen", "rejected"} <= set(pairs[0])
        first = pairs[0]
        item = RoundItem.objects.get(pk=first["item_id"])
        chosen_id = item.response_a_id if item.response_a.model_name == "gamma-70b" else item.response_b_id
        assert first["chosen_response_id"] == chosen_id
        assert {first["chosen_response_id"], first["rejected_response_id"]} == {item.response_a_id, item.response_b_id}
        assert (first["prompt_id"], first["round_id"]) == (item.prompt_id, evaluation_round.pk)
        assert (first["votes_for_chosen"], first["votes_against_chosen"], first["votes"]) == (3, 0, 3)
        assert [p["item_id"] for p in pairs] == sorted(p["item_id"] for p in pairs)

    def test_pairs_stream_from_one_query_whatever_the_size_of_the_round(
        self, project, curator, reviewers, prompts, django_assert_num_queries
    ):
        evaluation_round = round_freeze(evaluation_round=make_round(project, curator, reviewers))
        # Gamma wins wherever it is shown; elsewhere both judges pick the left answer, and each item's
        # two judgments show its pair in both orders, so those are 1-1 splits.
        judge_all(
            evaluation_round,
            lambda slot: overall("b" if slot.right_response.model_name == "gamma-70b" else "a"),
        )
        evaluation_round.refresh_from_db()
        evaluation_round.schema  # noqa: B018  (loaded before counting)
        with django_assert_num_queries(1):
            pairs = list(majority_pairs(evaluation_round))
        assert len(pairs) == 2 * len(prompts) and {p["chosen_model"] for p in pairs} == {"gamma-70b"}

    def test_ties_and_both_bad_are_never_exported(self, project, curator, reviewers, prompts):
        evaluation_round = round_freeze(evaluation_round=make_round(project, curator, reviewers))
        judge_all(evaluation_round, lambda slot: overall("both_bad"))
        assert list(majority_pairs(evaluation_round)) == []

    @pytest.mark.parametrize(
        ("verdicts", "pairs_expected"),
        [(["tie", "gamma", "gamma", "other"], False), (["gamma", "tie", "gamma", "gamma"], True)],
    )
    def test_a_majority_is_more_than_half_of_all_judgments_ties_included(
        self, project, curator, reviewers, prompts, verdicts, pairs_expected
    ):
        evaluation_round = round_freeze(
            evaluation_round=make_round(
                project, curator, reviewers, judgments_per_item=4, models=["alpha-7b", "gamma-70b"]
            )
        )
        seen = Counter()

        def choose(slot):
            verdict = verdicts[seen[slot.item_id]]
            seen[slot.item_id] += 1
            if verdict == "tie":
                return overall("tie")
            picks_left = (slot.left_response.model_name == "gamma-70b") == (verdict == "gamma")
            return overall("a" if picks_left else "b")

        judge_all(evaluation_round, choose)
        pairs = list(majority_pairs(evaluation_round))
        if pairs_expected:
            assert len(pairs) == len(prompts) and {p["chosen_model"] for p in pairs} == {"gamma-70b"}
            assert {(p["votes_for_chosen"], p["votes_against_chosen"], p["votes"]) for p in pairs} == {(3, 0, 4)}
        else:
            assert pairs == [], "2 votes of 4 is not more than half"


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_an_item_being_submitted_in_another_tab_is_skipped(project, curator, reviewers, prompts):
    import threading

    from django.db import connection, transaction

    assert connection.features.has_select_for_update_skip_locked, "SKIP LOCKED needs PostgreSQL"
    evaluation_round = round_freeze(evaluation_round=make_round(project, curator, reviewers))
    reviewer = reviewers[0]
    first = round_next_slot(evaluation_round=evaluation_round, reviewer=reviewer)
    locked, release = threading.Event(), threading.Event()

    def submit_in_flight():
        try:
            with transaction.atomic():
                RoundSlot.objects.select_for_update().get(pk=first.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    other_tab = threading.Thread(target=submit_in_flight)
    other_tab.start()
    assert locked.wait(10)
    try:
        following = round_next_slot(evaluation_round=evaluation_round, reviewer=reviewer)
    finally:
        release.set()
        other_tab.join()
    assert following is not None and following.pk != first.pk
    assert round_next_slot(evaluation_round=evaluation_round, reviewer=reviewer).pk == first.pk


def test_published_results_stay_until_the_next_judgment_and_their_header_is_read_fresh(
    project, curator, reviewers, prompts
):
    from curation.services.round_results import round_results_latest, round_results_refresh

    evaluation_round = round_freeze(evaluation_round=make_round(project, curator, reviewers, sample_size=2))
    first_reviewer = reviewers[0]
    slot = round_next_slot(evaluation_round=evaluation_round, reviewer=first_reviewer)
    judgment_submit(slot=slot, reviewer=first_reviewer, answers=overall("a"))
    first = round_results_refresh(evaluation_round=evaluation_round)
    assert round_results_latest(evaluation_round=evaluation_round).result == first

    slot = round_next_slot(evaluation_round=evaluation_round, reviewer=first_reviewer)
    judgment_submit(slot=slot, reviewer=first_reviewer, answers=overall("b"))
    fresh = round_results_refresh(evaluation_round=evaluation_round)
    assert fresh["judgments"] == first["judgments"] + 1 == 2
    assert fresh["progress"]["done"] == 2

    evaluation_round.name = "Renamed"
    evaluation_round.save(update_fields=["name"])
    assert round_results_latest(evaluation_round=evaluation_round).result["round"]["name"] == "Renamed"
