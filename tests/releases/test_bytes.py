"""Release files read back as written: JSON Lines split into their rows by any line splitter, CSV
cells a spreadsheet never runs, and the same definition on unchanged data gives the same bytes."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from curation.formats.writers.encoding import csv_safe, jsonl_line
from curation.models import ReleaseKey, TaskStatus
from curation.services.releases import release_build, release_create, release_key_rotate
from curation.services.reviews import review_submit
from tests.factories import ClinicianFactory, SeedTaskFactory

ALL_FORMATS = ["alpaca", "chat", "preference", "reviews", "reviews_csv", "scores_csv"]
ANSWERS = {"decision": "accept", "clinical_validity": 5, "clarity": 4, "difficulty": 3}


@pytest.fixture
def reviewed(project):
    """Two accepted tasks, each reviewed by two clinicians, one review correcting the reference output."""
    tasks = SeedTaskFactory.create_batch(2, project=project, status=TaskStatus.ACCEPTED, reference_output="Rest.")
    for reviewer in ClinicianFactory.create_batch(2):
        for task in tasks:
            review_submit(reviewer=reviewer, schema=project.seed_schema, seed_task=task, answers=ANSWERS)
    review_submit(
        reviewer=ClinicianFactory(),
        schema=project.seed_schema,
        seed_task=tasks[0],
        answers=ANSWERS,
        corrected_text="Rest, and come back if the pain returns.",
    )
    return tasks


def _built(project, fmt="alpaca", **filters):
    release = release_create(project=project, created_by=None, format=fmt, filters=filters, enqueue=False)
    return release_build(release_id=release.pk)


def _data(release) -> bytes:
    return (Path(settings.MEDIA_ROOT) / release.file_path).read_bytes()


# --- JSON Lines ---


@pytest.mark.parametrize("breaker", ["\u2028", "\u2029", "\u0085"])
def test_a_jsonl_line_never_holds_a_character_that_splitlines_breaks_at(breaker):
    line = jsonl_line({"instruction": f"first{breaker}second", "input": "é"})

    text = line.decode("utf-8")
    assert breaker not in text
    assert text.splitlines() == [text.rstrip("\n")]
    assert json.loads(text) == {"instruction": f"first{breaker}second", "input": "é"}
    assert "é" in text, "other characters stay as they are"


def test_a_release_whose_text_holds_line_separators_reads_back_row_by_row(project):
    texts = ["Chest pain\u2028at rest", "Dyspnoea\u2029on exertion", "Nausea\u0085and vomiting"]
    for text in texts:
        SeedTaskFactory(project=project, status=TaskStatus.ACCEPTED, instruction=text, reference_output=text)

    release = _built(project, "chat")

    lines = _data(release).decode("utf-8").splitlines()
    assert len(lines) == release.row_count == 3
    assert [json.loads(line)["messages"][0]["content"] for line in lines] == texts


# --- CSV ---


@pytest.mark.parametrize(
    "cell",
    [
        "=1+1",
        ' =HYPERLINK("http://evil.example")',
        "\n=cmd",
        "\t=cmd",
        "  +1+1",
        "\u3000@SUM(A1)",
        "\uff1d1+1",
        "\uff0bcmd",
        "\uff0d2+3",
        "\uff20SUM(A1)",
        " \uff1dcmd",
    ],
)
def test_csv_cells_that_start_a_formula_after_blanks_or_in_full_width_are_guarded(cell):
    assert csv_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["a = b", "Take 5 mg", " indented text", "e-mail"])
def test_csv_cells_that_only_contain_a_sign_are_left_alone(cell):
    assert csv_safe(cell) == cell


def test_a_reviews_csv_release_guards_a_comment_that_hides_a_formula_behind_a_space(project, clinician):
    task = SeedTaskFactory(project=project, status=TaskStatus.ACCEPTED)
    review_submit(
        reviewer=clinician, schema=project.seed_schema, seed_task=task, answers={**ANSWERS, "comment": " \uff1dcmd|x"}
    )

    release = _built(project, "reviews_csv")

    rows = list(csv.DictReader(io.StringIO(_data(release).decode("utf-8"))))
    [comment] = [row["value"] for row in rows if row["field"] == "comment"]
    assert comment == "' \uff1dcmd|x"


# --- The same bytes ---


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_the_same_definition_on_unchanged_data_gives_the_same_bytes(project, reviewed, fmt):
    first, second = _built(project, fmt), _built(project, fmt)

    assert first.row_count > 0
    assert _data(first) == _data(second)
    assert first.sha256 == second.sha256


def test_the_project_key_is_created_once_and_rotating_it_names_reviewers_anew(project, reviewed):
    before = _built(project, "reviews")
    key = ReleaseKey.objects.get(project=project)

    rotated = release_key_rotate(project=project, actor=None)
    after = _built(project, "reviews")

    assert ReleaseKey.objects.filter(project=project).count() == 1
    assert rotated.secret != key.secret and rotated.rotated_at is not None
    names_before = {json.loads(line)["reviewer"] for line in _data(before).splitlines()}
    names_after = {json.loads(line)["reviewer"] for line in _data(after).splitlines()}
    assert len(names_before) == len(names_after) == 3
    assert names_before.isdisjoint(names_after)
    assert _data(before) == (Path(settings.MEDIA_ROOT) / before.file_path).read_bytes(), "built releases keep theirs"


def test_export_dataset_rotates_the_key_alone_or_before_an_export(project, reviewed, tmp_path):
    release = _built(project, "scores_csv")
    secret = ReleaseKey.objects.get(project=project).secret

    out = io.StringIO()
    call_command("export_dataset", "--project", project.slug, "--rotate-pseudonym-key", stdout=out)

    assert "rotated" in out.getvalue()
    assert ReleaseKey.objects.get(project=project).secret != secret
    target = tmp_path / "scores.csv"
    call_command(
        "export_dataset", "--project", project.slug, "--format", "scores_csv", "--out", str(target),
        stdout=io.StringIO(),
    )  # fmt: skip
    assert target.read_bytes() != _data(release)
