"""The rounds page costs the same number of queries with a round of a few slots as with one of many,
and its figures are each round's own."""

from django.urls import reverse

from curation.models import RoundSlot
from curation.services.round_judging import judgment_submit
from curation.services.round_schedules import round_freeze
from curation.services.rounds import round_create
from tests.factories import ClinicianFactory, MembershipFactory, ModelResponseFactory, PromptFactory
from tests.scale import queries

MODELS = ("model-a", "model-b", "model-c")
VOTES = {"overall": "a", "correctness": "b", "helpfulness": "tie", "harm": "both_bad"}


def _judged_round(project, curator, reviewers, *, prompts: int, name: str):
    """A frozen pairwise round over `prompts` new prompts, every slot judged but the last."""
    ids = []
    for n in range(prompts):
        prompt = PromptFactory(project=project, instruction=f"{name}: prompt {n}")
        for model in MODELS:
            ModelResponseFactory(prompt=prompt, seed_task=None, model_name=model, text=f"{model} on {n}")
        ids.append(prompt.pk)
    evaluation_round = round_freeze(
        evaluation_round=round_create(
            project=project, created_by=curator, name=name, mode="pairwise", models=list(MODELS),
            reviewers=reviewers, prompt_ids=ids,
        )
    )  # fmt: skip
    slots = list(RoundSlot.objects.filter(round=evaluation_round).select_related("reviewer").order_by("pk"))
    for slot in slots[:-1]:
        judgment_submit(slot=slot, reviewer=slot.reviewer, answers=VOTES)
    return evaluation_round, len(slots)


def test_the_rounds_page_costs_the_same_with_few_and_many_slots_and_counts_each_round(client, project, curator):
    reviewers = [ClinicianFactory(), ClinicianFactory()]
    for reviewer in reviewers:
        MembershipFactory(project=project, user=reviewer)
    url = reverse("round_list", args=[project.slug])
    small, small_slots = _judged_round(project, curator, reviewers, prompts=1, name="Small")
    client.force_login(curator)
    few = queries(client, "get", url)
    large, large_slots = _judged_round(project, curator, reviewers, prompts=8, name="Large")

    assert queries(client, "get", url) == few
    shown = {r.pk: (r.slot_count, r.judgment_count) for r in client.get(url).context["rounds"]}
    assert shown == {small.pk: (small_slots, small_slots - 1), large.pk: (large_slots, large_slots - 1)}
    client.force_login(reviewers[0])
    mine = {r.pk: (r.my_slots, r.my_done) for r in client.get(url).context["rounds"]}
    assert mine[large.pk][0] == RoundSlot.objects.filter(round=large, reviewer=reviewers[0]).count()
    assert (
        mine[large.pk][1]
        == RoundSlot.objects.filter(round=large, reviewer=reviewers[0], judgment__isnull=False).count()
    )
