"""One release definition: the page, the API and the command line accept and refuse the same filters,
with the same messages, because each builds its fields from curation.releases_definition."""

import html
import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from curation.forms.releases import ReleaseForm
from curation.models import Release, TaskStatus
from curation.releases_definition import ReleaseDefinition, ReleaseFilters
from tests.factories import SeedTaskFactory


@pytest.fixture
def tasks(project):
    return SeedTaskFactory.create_batch(2, project=project, status=TaskStatus.ACCEPTED, topic_raw="Cardiology")


def _page_error(client, project, name: str, posted: dict) -> str:
    data = {"format": "alpaca", "license": "CC BY 4.0", "statuses": ["accepted"], **posted}
    page = client.post(reverse("release_list", args=[project.slug]), data).content.decode()
    field = page.index(f'name="{name}"')
    start = page.rindex('<div class="form-row">', 0, field)
    end = page.find('<div class="form-row">', field)
    row = page[start : end if end != -1 else page.index("</form>", field)]
    [message] = re.findall(r'<ul class="errorlist[^"]*"[^>]*><li>(.*?)</li>', row)
    return html.unescape(message)


def _api_error(client, project, name: str, sent: dict) -> str:
    response = client.post(
        reverse("api_release_list", args=[project.slug]),
        {"format": "alpaca", "filters": sent},
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    return response.json()[name][0]


def _cli_error(project, name: str, args: list[str], tmp_path) -> str:
    with pytest.raises(CommandError) as refused:
        call_command(
            "export_dataset", "--project", project.slug, "--format", "alpaca",
            "--out", str(tmp_path / "out.jsonl"), *args, stdout=io.StringIO(),
        )  # fmt: skip
    match = re.search(rf"{name}: (.*?)(?:; \w+: |$)", str(refused.value))
    assert match, str(refused.value)
    return match.group(1)


BAD_FILTERS = [
    # (filter, as the form posts it, as the API sends it, as the command line takes it)
    ("min_agreement", {"min_agreement": "1.5"}, {"min_agreement": 1.5}, ["--min-agreement", "1.5"]),
    ("min_agreement", {"min_agreement": "-0.1"}, {"min_agreement": -0.1}, ["--min-agreement", "-0.1"]),
    ("min_reviewers", {"min_reviewers": "-2"}, {"min_reviewers": -2}, ["--min-reviewers", "-2"]),
    ("min_reviewers", {"min_reviewers": "two"}, {"min_reviewers": "two"}, ["--min-reviewers", "two"]),
    ("topics", {"topics": ["Astrology"]}, {"topics": ["Astrology"]}, ["--topic", "Astrology"]),
    ("statuses", {"statuses": ["published"]}, {"statuses": ["published"]}, ["--status", "published"]),
    ("difficulties", {"difficulties": ["7"]}, {"difficulties": [7]}, ["--difficulty", "7"]),
    ("created_from", {"created_from": "31/01/2026"}, {"created_from": "31/01/2026"}, ["--created-from", "31/01/2026"]),
]


@pytest.mark.parametrize(("name", "posted", "sent", "args"), BAD_FILTERS, ids=lambda v: str(v)[:40])
def test_the_page_the_api_and_the_command_line_refuse_a_bad_filter_with_the_definitions_message(
    client, project, admin_user, tasks, tmp_path, name, posted, sent, args
):
    with pytest.raises(ValidationError) as refused:
        ReleaseDefinition.from_data(project=project, format="alpaca", filters=sent)
    [expected] = refused.value.message_dict[name]
    client.force_login(admin_user)

    assert _page_error(client, project, name, posted) == expected
    assert _api_error(client, project, name, sent) == expected
    assert _cli_error(project, name, args, tmp_path) == expected
    assert not Release.objects.exists()


def test_the_api_refuses_a_minimum_agreement_outside_0_to_1_as_the_page_does(client, project, admin_user):
    client.force_login(admin_user)

    message = _api_error(client, project, "min_agreement", {"min_agreement": 3})

    assert message == "must be a number from 0 to 1, the share of reviewer pairs that agree (got 3)"


def test_the_api_refuses_an_unknown_filter_instead_of_dropping_it(client, project, admin_user):
    client.force_login(admin_user)

    message = _api_error(client, project, "colour", {"colour": "red"})

    assert message.startswith("is not a filter (known: statuses, min_reviewers")


def test_a_minimum_agreement_for_a_preference_release_is_refused_alike_on_the_page_and_the_api(
    client, project, admin_user
):
    client.force_login(admin_user)
    page = client.post(
        reverse("release_list", args=[project.slug]),
        {"format": "preference", "license": "CC BY 4.0", "statuses": ["accepted"], "min_agreement": "0.8"},
    ).content.decode()
    api = client.post(
        reverse("api_release_list", args=[project.slug]),
        {"format": "preference", "filters": {"min_agreement": 0.8}},
        content_type="application/json",
    ).json()

    [message] = api["min_agreement"]
    assert message == "applies to the seed-task formats (alpaca, chat) only; leave it empty for preference"
    assert html.escape(message, quote=False) in page


def test_good_filters_read_the_same_from_the_page_the_api_and_the_command_line(project, tasks):
    posted = {"statuses": ["accepted"], "min_reviewers": "1", "min_agreement": "0.5", "topics": ["Cardiology"],
              "difficulties": ["3", "2"], "created_from": "2026-01-01", "system_prompt": " Be brief.\r\n"}  # fmt: skip
    sent = {"statuses": ["accepted"], "min_reviewers": 1, "min_agreement": 0.5, "topics": ["Cardiology"],
            "difficulties": [2, 3], "created_from": "2026-01-01", "system_prompt": "Be brief."}  # fmt: skip

    from_page = ReleaseDefinition.from_data(project=project, format="chat", filters=posted)
    from_api = ReleaseDefinition.from_data(project=project, format="chat", filters=sent)

    assert from_page == from_api
    assert from_page.filters.difficulties == (2, 3) and from_page.filters.system_prompt == "Be brief."
    assert from_page.definition_hash(project=project) == from_api.definition_hash(project=project)


def test_every_filter_has_a_field_on_the_page_in_the_api_and_on_the_command_line(project):
    from curation.management.commands.export_dataset import Command

    names = list(ReleaseFilters.specs())
    form_fields = [name for name in ReleaseForm(project=project).fields if name in names]
    parser = Command().create_parser("manage.py", "export_dataset")
    cli_dests = {action.dest for action in parser._actions}

    assert form_fields == names
    api = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]["ReleaseCreateInRequest"]
    assert list(api["properties"]["filters"]["properties"]) == names
    assert set(names) <= cli_dests


def test_a_saved_release_missing_a_filter_added_since_reads_it_as_its_default():
    stored = {"statuses": ["accepted"], "min_reviewers": 2, "topics": ["Cardiology"]}

    filters = ReleaseFilters.from_stored(stored)

    assert filters.min_reviewers == 2 and filters.topics == ("Cardiology",)
    assert filters.round_axis == "overall" and filters.rounds == ()
    assert filters.as_dict()["topics"] == ["Cardiology"]
