"""Nesting depth and record size are bounded while a file is read, before a record is built.

A record deeper than CONCORD_IMPORT_MAX_DEPTH (64 levels, the record itself being level 1) or
larger than CONCORD_IMPORT_MAX_RECORD_BYTES is refused with the record (or line) and the file line
it was found on; the import fails and writes nothing. Brackets inside strings are text, not depth.
"""

import json
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from curation.formats.streams import iter_json_records
from curation.models import ImportJob, ImportStatus, SeedTask
from curation.services.imports import import_file

DEEP = 100_000


def alpaca(n: int, **changes) -> dict:
    return {"instruction": f"Define term {n}.", "input": "", "output": f"Term {n}.", **changes}


def deep(levels: int) -> bytes:
    """`levels` arrays, each inside the one before."""
    return b"[" * levels + b"]" * levels


def line_of(record: dict) -> bytes:
    return json.dumps(record).encode()


# A record's opening brace is level 1, so the meta field's first bracket opens level 2.
DEEP_LINE_START = b'{"instruction": "Define sepsis.", "output": "Infection.", "meta": '
DEEP_LINE = DEEP_LINE_START + deep(DEEP) + b"}"

# A pretty-printed array whose second record starts on line 3 and goes deep on line 6.
DEEP_ARRAY = (
    b"[\n  "
    + line_of(alpaca(1))
    + b",\n  {\n    "
    + b'"instruction": "Define sepsis.",\n    "output": "Infection.",\n    "meta": '
    + deep(DEEP)
    + b"\n  },\n  "
    + line_of(alpaca(3))
    + b"\n]\n"
)

# name -> (file name, content, (unit, line, words in the reason))
CORPUS = {
    "a JSON array record nested 100,000 levels deep": (
        "seed.json",
        DEEP_ARRAY,
        ("record", 2, "nested more than 64 levels deep on line 6 (setting CONCORD_IMPORT_MAX_DEPTH)"),
    ),
    "a JSON line nested 100,000 levels deep": (
        "seed.jsonl",
        line_of(alpaca(1)) + b"\n" + DEEP_LINE + b"\n" + line_of(alpaca(3)) + b"\n",
        ("line", 2, f"nested more than 64 levels deep at column {len(DEEP_LINE_START) + 64} "),
    ),
    "a JSON array that is itself a record nested 100,000 levels deep": (
        "seed.json",
        b"[" + deep(DEEP) + b"]",
        ("record", 1, "expected a JSON object, found an array"),
    ),
}


@pytest.fixture
def seed_tasks_before(project):
    return SeedTask.objects.count()


def assert_refused(job: ImportJob, unit: str, line: int, reason: str, seed_tasks_before: int) -> None:
    assert job.status == ImportStatus.FAILED
    assert job.records_written == 0
    assert SeedTask.objects.count() == seed_tasks_before
    first = job.problems[0]
    assert (first["unit"], first["line"], first["field"]) == (unit, line, ""), job.problems
    assert reason in first["reason"], job.problems


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_a_deep_file_is_refused_naming_the_record_and_line_and_writes_nothing(
    project, curator, tmp_path, seed_tasks_before, name
):
    file_name, content, (unit, line, reason) = CORPUS[name]
    path = tmp_path / file_name
    path.write_bytes(content)

    job = import_file(project=project, path=path, format="alpaca", created_by=curator)

    assert_refused(job, unit, line, reason, seed_tasks_before)


def test_an_array_nested_too_deep_as_a_record_is_also_refused_for_its_depth(project, curator, tmp_path):
    path = tmp_path / "seed.json"
    path.write_bytes(b"[" + deep(DEEP) + b"]")

    job = import_file(project=project, path=path, format="alpaca", created_by=curator)

    assert any("nested more than 64 levels deep on line 1" in p["reason"] for p in job.problems), job.problems


def test_a_deep_array_record_stops_the_reading_and_says_so(project, curator, tmp_path):
    path = tmp_path / "seed.json"
    path.write_bytes(DEEP_ARRAY)

    job = import_file(project=project, path=path, format="alpaca", created_by=curator)

    assert job.problem_count == 1
    assert job.problems[0]["reason"].endswith("; the rest of the file was not read")


def test_after_a_deep_json_line_the_following_lines_are_still_checked(project, curator, tmp_path):
    path = tmp_path / "seed.jsonl"
    path.write_bytes(DEEP_LINE + b"\n" + line_of(alpaca(2, output=7)) + b"\n")

    job = import_file(project=project, path=path, format="alpaca", created_by=curator)

    assert [(p["line"], p["field"]) for p in job.problems] == [(1, ""), (2, "output")]


def test_reading_a_deep_file_holds_a_few_megabytes_not_gigabytes(tmp_path):
    array, lines = tmp_path / "deep.json", tmp_path / "deep.jsonl"
    array.write_bytes(DEEP_ARRAY)
    lines.write_bytes(DEEP_LINE + b"\n")

    tracemalloc.start()
    try:
        problems = [*iter_json_records(array), *iter_json_records(lines)]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert sum("nested more than" in str(p) for p in problems) == 2
    assert peak < 5_000_000


# -- the limit is a setting, and counts levels exactly ----------------------------------------------


def nested_record(levels: int) -> bytes:
    """An Alpaca record `levels` deep in all: the record itself, then levels - 1 arrays in its meta field."""
    return b'{"instruction": "Define shock.", "output": "Low perfusion.", "meta": ' + deep(levels - 1) + b"}"


@pytest.mark.parametrize(
    ("file_name", "wrap"), [("seed.jsonl", lambda r: r + b"\n"), ("seed.json", lambda r: b"[" + r + b"]")]
)
def test_a_record_exactly_at_the_depth_limit_is_imported(project, curator, tmp_path, settings, file_name, wrap):
    settings.CONCORD_IMPORT_MAX_DEPTH = 5
    path = tmp_path / file_name
    path.write_bytes(wrap(nested_record(5)))

    job = import_file(project=project, path=path, format="alpaca", created_by=curator)

    assert job.status == ImportStatus.SUCCEEDED, job.problems
    assert SeedTask.objects.filter(instruction="Define shock.").exists()


@pytest.mark.parametrize(
    ("file_name", "wrap", "unit", "where"),
    [
        ("seed.jsonl", lambda r: r + b"\n", "line", "at column"),
        ("seed.json", lambda r: b"[" + r + b"]", "record", "on line 1"),
    ],
)
def test_one_level_more_is_refused_with_the_setting_named(
    project, curator, tmp_path, settings, file_name, wrap, unit, where
):
    settings.CONCORD_IMPORT_MAX_DEPTH = 5
    path = tmp_path / file_name
    path.write_bytes(wrap(nested_record(6)))

    job = import_file(project=project, path=path, format="alpaca", created_by=curator)

    assert job.status == ImportStatus.FAILED
    assert (job.problems[0]["unit"], job.problems[0]["line"]) == (unit, 1)
    assert f"nested more than 5 levels deep {where}" in job.problems[0]["reason"]
    assert "CONCORD_IMPORT_MAX_DEPTH" in job.problems[0]["reason"]


@pytest.mark.parametrize("file_name", ["seed.jsonl", "seed.json"])
def test_brackets_inside_text_are_not_nesting(project, curator, tmp_path, file_name):
    record = alpaca(1, instruction="Read the ECG: " + "[{" * 200 + "}]" * 200)
    path = tmp_path / file_name
    path.write_text(json.dumps(record) + "\n" if file_name.endswith("l") else json.dumps([record]))

    job = import_file(project=project, path=path, format="alpaca", created_by=curator)

    assert job.status == ImportStatus.SUCCEEDED, job.problems


def test_an_unterminated_string_full_of_brackets_is_malformed_not_deep(project, curator, tmp_path):
    path = tmp_path / "seed.jsonl"
    path.write_bytes(b'{"instruction": "' + b"[" * 100 + b"\n")

    job = import_file(project=project, path=path, format="alpaca", created_by=curator)

    assert job.problems[0]["reason"].startswith("malformed JSON"), job.problems


# -- record size, while reading ---------------------------------------------------------------------


def test_an_array_record_of_many_small_values_past_the_size_limit_is_refused_and_the_next_read(
    project, curator, tmp_path, settings, seed_tasks_before
):
    settings.CONCORD_IMPORT_MAX_RECORD_BYTES = 2000
    big = alpaca(2, meta=[f"value {i}" for i in range(400)])
    path = tmp_path / "seed.json"
    path.write_text("[\n" + ",\n".join(json.dumps(r) for r in (alpaca(1), big, alpaca(3, output=7))) + "\n]")

    job = import_file(project=project, path=path, format="alpaca", created_by=curator)

    assert_refused(
        job, "record", 2, "larger than the 2,000-byte limit on line 3 (setting CONCORD_IMPORT_MAX_RECORD_BYTES)",
        seed_tasks_before,
    )  # fmt: skip
    assert [(p["line"], p["field"]) for p in job.problems] == [(2, ""), (3, "output")]


def test_one_string_longer_than_a_record_may_be_is_refused_before_it_is_read_whole(
    project, curator, tmp_path, seed_tasks_before
):
    path = tmp_path / "seed.json"
    path.write_bytes(b'[\n{"instruction": "a", "output": "b"},\n{"instruction": "' + b"x" * 5_000_000 + b'"}\n]')

    job = import_file(project=project, path=path, format="alpaca", created_by=curator)

    assert_refused(job, "record", 2, "larger than the 1,048,576-byte limit on line 3", seed_tasks_before)


def test_a_json_line_keeps_its_length_limit(project, curator, tmp_path, settings, seed_tasks_before):
    settings.CONCORD_IMPORT_MAX_RECORD_BYTES = 2000
    path = tmp_path / "seed.jsonl"
    path.write_bytes(line_of(alpaca(1)) + b"\n" + line_of(alpaca(2, output="x" * 3000)) + b"\n")

    job = import_file(project=project, path=path, format="alpaca", created_by=curator)

    assert_refused(job, "line", 2, "the line is longer than the 2,000-byte limit", seed_tasks_before)


# -- the upload path ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CORPUS)[:2])
def test_a_deep_upload_over_the_api_fails_with_the_same_report(
    client, project, curator, settings, tmp_path, django_capture_on_commit_callbacks, seed_tasks_before, name
):
    settings.MEDIA_ROOT = tmp_path / "media"
    file_name, content, (unit, line, reason) = CORPUS[name]
    client.force_login(curator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("api_import_list", args=[project.slug]),
            {"file": SimpleUploadedFile(file_name, content), "format": "alpaca"},
        )

    assert response.status_code == 202, response.content
    job = ImportJob.objects.get(pk=response.json()["id"])
    assert_refused(job, unit, line, reason, seed_tasks_before)


@pytest.mark.parametrize(
    ("file_name", "content", "unit"),
    [("seed.json", b"[" + DEEP_LINE + b"]", "record"), ("seed.jsonl", DEEP_LINE + b"\n", "line")],
)
def test_a_deep_first_record_is_reported_for_its_depth_not_as_an_unknown_format(
    project, curator, tmp_path, file_name, content, unit
):
    path = tmp_path / file_name
    path.write_bytes(content)

    job = import_file(project=project, path=path, created_by=curator)

    assert job.status == ImportStatus.FAILED
    assert [(p["unit"], p["line"], p["field"]) for p in job.problems] == [(unit, 1, "")]
    assert "nested more than 64 levels deep" in job.problems[0]["reason"]
