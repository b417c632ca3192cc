"""What an import says about a problem names only true places (file, line, column, record) and the options
of the interface in use, in sentences that read right: the CLI, the upload page and the API share these texts."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.template import Context, Template

from curation.models import ImportStatus, SeedTask
from curation.services.imports import import_file, import_options
from curation.services.imports.problems import group_text


def alpaca(n: int, **extra) -> dict:
    return {"instruction": f"Define term {n}.", "input": "", "output": f"Term {n}.", **extra}


def jsonl(*records: dict) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


def cli(path, project, *args) -> None:
    """Run import_items on a file it refuses; the report is in the captured output."""
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_items", str(path), "--project", project.slug, *args)


# -- 1. malformed JSON: the line of the file and the column within it ------------------------------------


def test_a_jsonl_line_cut_short_is_named_by_its_file_line_not_the_decoders_own_count(project, tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text(jsonl(*(alpaca(n) for n in range(5))) + '{"instruction": "What is X?", "output": "b"\n')

    job = import_file(project=project, path=path, format="alpaca")

    assert job.status == ImportStatus.FAILED
    (problem,) = job.problems
    assert (problem["unit"], problem["line"]) == ("line", 6)
    assert problem["reason"] == "malformed JSON: Expecting ',' delimiter at the end of the line"
    (group,) = job.report["problem_groups"]
    assert group["text"] == "1 record: malformed JSON: Expecting ',' delimiter at the end of the line; first at line 6"


def test_malformed_json_inside_a_jsonl_line_names_the_column_within_that_line(project, tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text(jsonl(alpaca(1)) + '{"instruction": "a" "output": "b"}\n{"instruction": "Unterminated}\n')

    job = import_file(project=project, path=path, format="alpaca")

    reasons = {problem["line"]: problem["reason"] for problem in job.problems}
    assert reasons == {
        2: "malformed JSON: Expecting ',' delimiter at column 21",
        3: "malformed JSON: Unterminated string starting at column 17",
    }


def test_malformed_json_in_an_array_names_the_line_it_is_on_and_the_line_its_record_starts_on(project, tmp_path):
    path = tmp_path / "data.json"
    path.write_text('[\n{"instruction": "A?", "output": "a"},\n{"instruction": "B?",\n "output": "b" "x": 1}\n]\n')

    job = import_file(project=project, path=path, format="alpaca")

    (problem,) = job.problems
    assert (problem["unit"], problem["line"], problem["file_line"]) == ("record", 2, 3)
    assert problem["reason"].startswith("malformed or truncated JSON on line 4: parse error:")
    assert job.report["problem_groups"][0]["text"].endswith("; first at record 2 (line 3)")


# -- 2. a single file is not "several files"; a reason ending in a full stop joins the place cleanly -------


def test_a_single_file_of_unknown_format_is_reported_as_one_file_in_clean_sentences(project, tmp_path, capsys):
    path = tmp_path / "mo_missing_response.json"
    path.write_text(json.dumps([{"id": 1, "instruction": "What is gout?", "raw_output": "Arthritis."}]))

    cli(path, project)

    out = capsys.readouterr().out
    assert "several files" not in out and ".;" not in out
    assert "mo_missing_response.json: Refused" in out
    assert "choose the format (--format {" in out and "}); first at line 1" in out


def test_a_folder_is_still_reported_as_several_files(project, tmp_path, capsys):
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "a.jsonl").write_text(jsonl(alpaca(1)))
    (tmp_path / "runs" / "b.jsonl").write_text(jsonl(alpaca(2), {"prompt": "no reading has this"}))

    cli(tmp_path / "runs", project)

    assert "runs (several files): Refused" in capsys.readouterr().out


@pytest.mark.parametrize(
    "reason", ["Cannot tell this file's format; choose the format.", "required field is missing"], ids=["dot", "plain"]
)
def test_a_group_joins_its_reason_and_first_place_with_one_mark(reason):
    group = {"count": 1, "field": "", "reason": reason, "first": {"line": 1, "unit": "line", "reason": reason}}

    text = group_text(group)

    assert text == f"1 record: {reason.removesuffix('.')}; first at line 1"


# -- 3. unknown fields: where they first are, and the confirmation each interface really offers ----------


def test_strict_names_the_first_line_with_the_unknown_field_and_the_real_options(project, tmp_path, capsys):
    path = tmp_path / "data.jsonl"
    path.write_text(jsonl(alpaca(1), alpaca(2, ouptut="typo"), alpaca(3, ouptut="typo")))

    cli(path, project, "--strict")

    out = capsys.readouterr().out
    assert "2 records: ouptut: unknown field for the alpaca format; it would not be stored; first at line 2" in out
    assert "first at file" not in out and "--accept-unknown-fields" not in out
    next_step = next(line for line in out.splitlines() if "next:" in line)
    assert "without --strict" in next_step
    assert "“Import without the fields listed as not stored”" in next_step  # the confirmation form's box
    assert "accept_unknown_fields=true" in next_step  # the API's parameter


def test_an_unknown_field_in_an_array_of_a_folder_names_the_file_record_and_line(project, tmp_path):
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "a.jsonl").write_text(jsonl(alpaca(1)))
    (tmp_path / "runs" / "b.json").write_text(json.dumps([alpaca(2), alpaca(3, source="x")], indent=2))

    job = import_file(project=project, path=tmp_path / "runs", options=import_options())

    assert job.status == ImportStatus.FAILED and not SeedTask.objects.exists()
    (group,) = job.report["problem_groups"]
    assert group["text"] == (
        "1 record: source: unknown field for the alpaca format; it would not be stored; "
        "first at runs/b.json: record 2 (line 7)"
    )
    assert job.report["unknown_fields"] == [{"file": "runs/b.json", "field": "source", "records": 1, "first_line": 7}]


# -- 4. a mapped column that is not in the file ------------------------------------------------------------


@pytest.mark.parametrize("format", ["", "alpaca"], ids=["format read from the records", "format given"])
def test_a_mapping_to_a_column_the_file_lacks_names_that_column_and_the_ones_it_has(project, tmp_path, format):
    path = tmp_path / "data.jsonl"
    path.write_text(jsonl(alpaca(1), alpaca(2)))

    job = import_file(
        project=project, path=path, format=format, options=import_options(mapping="instruction=nosuchcol")
    )

    assert job.status == ImportStatus.FAILED
    (problem,) = job.problems
    assert problem["field"] == "instruction"
    assert problem["reason"] == (
        "the mapped column 'nosuchcol' (for instruction) is not in the file; its columns are input, instruction, output"
    )


def test_in_a_folder_a_mapped_column_may_be_missing_unless_the_file_has_the_field_it_would_drop(project, tmp_path):
    """One mapping serves every file of a folder: a file may lack an optional column, but where it has the
    field under its own name the mapping would silently drop that column, so the file is refused."""
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "a.jsonl").write_text(jsonl({"instruction": "Define gout.", "context": "", "output": "A."}))
    (tmp_path / "runs" / "b.jsonl").write_text(jsonl({"instruction": "Define sepsis.", "output": "B."}))
    mapping = import_options(mapping="input=context")

    lacking = import_file(project=project, path=tmp_path / "runs", options=mapping)
    (tmp_path / "runs" / "b.jsonl").write_text(jsonl({"instruction": "Define sepsis.", "input": "x", "output": "B."}))
    dropping = import_file(project=project, path=tmp_path / "runs", options=mapping)

    assert lacking.status == ImportStatus.SUCCEEDED, lacking.problems
    assert dropping.status == ImportStatus.FAILED
    assert dropping.report["problem_groups"][0]["text"] == (
        "runs/b.jsonl: input: the mapped column 'context' (for input) is not in the file; "
        "its columns are input, instruction, output"
    )


# -- 5. the folder report's lines ----------------------------------------------------------------------------


def test_the_folder_report_lists_each_file_without_a_dangling_comma(project, tmp_path, capsys):
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "a.jsonl").write_text(jsonl(alpaca(1)))
    (tmp_path / "runs" / "b.jsonl").write_text(jsonl(alpaca(2)) + "{not json}\n")

    cli(tmp_path / "runs", project)

    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert "runs/a.jsonl: alpaca" in lines and "runs/b.jsonl: alpaca" in lines
    assert not any(line.endswith(",") for line in lines)


def test_the_folder_report_joins_a_files_reading_model_and_counts_with_commas(project, tmp_path, capsys):
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "a.jsonl").write_text(jsonl(alpaca(1)))
    (tmp_path / "runs" / "b.jsonl").write_text(jsonl(alpaca(2), alpaca(3)))

    call_command("import_items", str(tmp_path / "runs"), "--project", project.slug)

    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert "runs/a.jsonl: alpaca, 1 seed task" in lines and "runs/b.jsonl: alpaca, 2 seed tasks" in lines


# -- 6. counts: one of a thing, or several ----------------------------------------------------------------


def test_import_items_names_one_record_in_the_singular_and_several_in_the_plural(project, tmp_path, capsys):
    (tmp_path / "one.jsonl").write_text(jsonl(alpaca(1, src="notes")))
    call_command("import_items", str(tmp_path / "one.jsonl"), "--project", project.slug)
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert "created: 1 seed task" in lines
    assert "warning: one.jsonl: field 'src' in 1 record (first at line 1) was not stored" in " ".join(lines)

    (tmp_path / "three.jsonl").write_text(jsonl(alpaca(1), alpaca(2), alpaca(3)))
    call_command("import_items", str(tmp_path / "three.jsonl"), "--project", project.slug)
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert "created: 2 seed tasks" in lines and "skipped: 1 seed task" in lines


@pytest.mark.parametrize(("bad_lines", "heading"), [(1, "1 problem:"), (2, "2 problems:")])
def test_import_items_counts_its_problems_in_words_that_agree(project, tmp_path, capsys, bad_lines, heading):
    (tmp_path / "bad.jsonl").write_text(jsonl(alpaca(1)) + "{not json}\n" * bad_lines)

    cli(tmp_path / "bad.jsonl", project)

    assert heading in [line.strip() for line in capsys.readouterr().out.splitlines()]


def test_the_import_page_counts_each_files_items_as_the_command_line_does():
    page = Template('{% load concord %}{{ 1|kind_counted:"responses" }}; {{ 1200|kind_counted:"seed_tasks" }}')

    assert page.render(Context()) == "1 response; 1,200 seed tasks"
