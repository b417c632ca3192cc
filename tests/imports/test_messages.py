"""What an import says about a problem names only true places (file, line, column, record) and the options
of the interface in use, in sentences that read right: the CLI, the upload page and the API share these texts."""

import json

import pytest
from django.core.management import CommandError, call_command

from curation.models import ImportStatus
from curation.services.imports import import_file


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
