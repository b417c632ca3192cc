"""A file with any defect writes nothing, and the report names the line (or record), field and reason."""

import json

import pytest
from django.core.exceptions import ValidationError

from curation.models import ImportJob, ImportStatus, ModelResponse, Prompt, SeedTask
from curation.services.imports import import_file
from tests.factories import PromptFactory, SeedTaskFactory

SEED = {
    "topic": "Cardiology",
    "view": "Patient",
    "type": "Open Q&A",
    "instruction": "Explain angina.",
    "input": "<noinput>",
    "difficulty": "2",
}


def alpaca(n: int, **changes) -> dict:
    return {"instruction": f"Define term {n}.", "input": "", "output": f"Term {n}.", **changes}


def seed(n: int, **changes) -> dict:
    return {**SEED, "instruction": f"Explain finding number {n}.", **changes}


def nested(depth: int) -> list:
    value: list = ["x"]
    for _ in range(depth):
        value = [value]
    return value


def jsonl(*records) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def array(*records) -> bytes:
    return json.dumps(list(records), indent=2).encode()


def fifty_thousand_lines_with_one_bad() -> bytes:
    lines = [
        json.dumps({"instruction": f"Define term {i}.", "input": "", "output": f"Term {i}."}) for i in range(50_000)
    ]
    lines[24_999] = '{"instruction": "Define term 24999.", "output": '
    return ("\n".join(lines) + "\n").encode()


# name -> (file name, content, format, expected (line, field, words in the reason))
CORPUS = {
    "truncated JSON array": ("seed.json", array(seed(1), seed(2))[:-40], "alpacare_seed", (2, "", "truncated")),
    "one bad line in the middle of a 50,000-line JSONL": (
        "big.jsonl",
        fifty_thousand_lines_with_one_bad(),
        "alpaca",
        (25_000, "", "malformed JSON"),
    ),
    "UTF-16": ("seed.json", array(seed(1)).decode().encode("utf-16"), "alpacare_seed", (1, "", "UTF-16")),
    "UTF-16 without a BOM": ("seed.json", array(seed(1)).decode().encode("utf-16-le"), "", (1, "", "UTF-16")),
    "a byte-order mark": ("seed.json", b"\xef\xbb\xbf" + array(seed(1)), "alpacare_seed", (1, "", "byte-order mark")),
    "duplicate ids": (
        "test.jsonl",
        jsonl(
            {"id": 1, "instruction": "A?", "difficulty": "2", "gpt-4-answer": "a"},
            {"id": 2, "instruction": "B?", "difficulty": "2", "gpt-4-answer": "b"},
            {"id": 1, "instruction": "C?", "difficulty": "2", "gpt-4-answer": "c"},
        ),
        "",
        (3, "id", "duplicate id '1' (first at line 1)"),
    ),
    "an unknown prompt id": (
        "medgen.json",
        array(
            {"id": "known", "instruction": "What is asthma?", "raw_output": "", "response": "A disease."},
            {"id": "nope", "instruction": "Who knows?", "raw_output": "", "response": "Nobody."},
        ),
        "model_outputs",
        (2, "id", "no prompt with id 'nope'"),
    ),
    "a model output whose instruction matches no prompt": (
        "medgen.json",
        array({"id": "known", "instruction": "What is gout?", "raw_output": "", "response": "Arthritis."}),
        "model_outputs",
        (1, "instruction", "does not match the instruction of prompt 'known'"),
    ),
    "an empty file": ("seed.json", b"", "", (1, "", "empty")),
    "only whitespace": ("seed.jsonl", b"  \n\n", "alpaca", (1, "", "empty")),
    "a top-level scalar": ("seed.json", b"42\n", "alpacare_seed", (1, "", "expected a JSON array")),
    "a scalar record": ("seed.json", array(seed(1), "just text"), "alpacare_seed", (2, "", "found a string")),
    "deeply nested JSON": (
        "seed.jsonl",
        jsonl(alpaca(1)) + b'{"instruction": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",
        "alpaca",
        (2, "", "nested"),
    ),
    "nested inside an array": (
        "seed.json",
        array(seed(1), seed(2, topic={"a": nested(80)})),
        "alpacare_seed",
        (2, "", "nested more than"),
    ),
    "NaN": ("seed.jsonl", jsonl(alpaca(1)) + b'{"instruction": "x", "output": NaN}\n', "alpaca", (2, "", "NaN")),
    "Infinity in an array": (
        "seed.json",
        b'[{"topic": "a", "view": "b", "type": "c", "instruction": "d", "input": "", "difficulty": Infinity}]',
        "alpacare_seed",
        (1, "", "malformed or truncated JSON"),
    ),
    "a NUL byte in JSONL": (
        "seed.jsonl",
        jsonl(alpaca(1)) + b'{"instruction": "a\x00b", "output": ""}\n',
        "alpaca",
        (2, "", "NUL byte"),
    ),
    "a NUL byte in a JSON array": (
        "seed.json",
        array(seed(1)).replace(b"angina", b"ang\x00ina").replace(b"finding", b"fin\x00ding"),
        "alpacare_seed",
        (6, "", "NUL byte"),
    ),
    "an escaped NUL character": (
        "seed.jsonl",
        b'{"instruction": "a\\u0000b", "output": ""}\n',
        "alpaca",
        (1, "instruction", "NUL character"),
    ),
    "a lone surrogate": (
        "seed.jsonl",
        b'{"instruction": "a\\ud800b", "output": ""}\n',
        "alpaca",
        (1, "instruction", "lone surrogate"),
    ),
    "invalid UTF-8": (
        "seed.jsonl",
        jsonl(alpaca(1), alpaca(2)) + b'{"instruction": "caf\xe9", "output": ""}\n',
        "alpaca",
        (3, "", "invalid UTF-8"),
    ),
    "invalid UTF-8 in a JSON array": (
        "seed.json",
        array(seed(1)).replace(b"Patient", b"Pati\xe9nt"),
        "alpacare_seed",
        (4, "", "invalid UTF-8"),
    ),
    "a 20 MB single line": (
        "seed.jsonl",
        jsonl(alpaca(1)) + jsonl({"instruction": "x" * 20_000_000, "output": "y"}) + jsonl(alpaca(3)),
        "alpaca",
        (2, "", "longer than the 1,048,576-byte limit"),
    ),
    "an unknown difficulty": (
        "seed.json",
        array(seed(1), seed(2, difficulty="hard")),
        "",
        (2, "difficulty", "unknown difficulty 'hard'"),
    ),
    "a difficulty out of range": ("seed.json", array(seed(1, difficulty=7)), "", (1, "difficulty", "1 (easiest) to 5")),
    "a missing required field": (
        "seed.json",
        array(seed(1), {k: v for k, v in seed(2).items() if k != "view"}),
        "alpacare_seed",
        (2, "view", "required field is missing"),
    ),
    "an empty instruction": (
        "seed.json",
        array(seed(1, instruction="  ")),
        "alpacare_seed",
        (1, "instruction", "must not be empty"),
    ),
    "a number where text belongs": (
        "seed.json",
        array(seed(1, topic=12)),
        "alpacare_seed",
        (1, "topic", "must be text"),
    ),
    "wrong CSV columns": (
        "seed.csv",
        b"instruction,outptu\nDefine sepsis.,Infection with organ failure.\n",
        "",
        (1, "outptu", "unknown column"),
    ),
    "a CSV without an instruction column": (
        "seed.csv",
        b"input,output\na,b\n",
        "csv",
        (1, "instruction", "required column"),
    ),
    "a CSV row with too many fields": (
        "seed.csv",
        b'instruction,output\n"Define\nsepsis.",ok\nDefine shock.,ok,extra\n',
        "csv",
        (4, "", "has 3 fields"),
    ),
    "a CSV with a bad difficulty": (
        "seed.csv",
        b"instruction,difficulty\nDefine sepsis.,2\nDefine shock.,six\n",
        "csv",
        (3, "difficulty", "unknown difficulty"),
    ),
    "a chat without an answer": (
        "chat.jsonl",
        jsonl({"messages": [{"role": "user", "content": "Hi"}]}),
        "chat",
        (1, "messages", "assistant"),
    ),
    "a chat with an unknown role": (
        "chat.jsonl",
        jsonl({"messages": [{"role": "doctor", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}),
        "chat",
        (1, "messages[0].role", "must be one of"),
    ),
    "an unrecognisable record": (
        "data.json",
        array({"question": "Why?", "answer": "Because."}),
        "",
        (1, "format", "--format"),
    ),
}


@pytest.fixture
def world(project, curator):
    SeedTaskFactory(project=project)
    PromptFactory(project=project, external_id="known", instruction="What is asthma?", input="")
    return project, curator


def _snapshot():
    return SeedTask.objects.count(), Prompt.objects.count(), ModelResponse.objects.count()


def test_the_corpus_has_at_least_fifteen_bad_inputs():
    assert len(CORPUS) >= 15


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_a_bad_file_writes_nothing_and_names_where_and_why(world, tmp_path, name):
    project, curator = world
    file_name, content, format_name, (line, field, reason) = CORPUS[name]
    path = tmp_path / file_name
    path.write_bytes(content)
    before = _snapshot()

    job = import_file(project=project, path=path, format=format_name, created_by=curator)

    assert job.status == ImportStatus.FAILED
    assert _snapshot() == before
    assert job.records_written == 0
    assert job.problem_count >= 1
    first = job.problems[0]
    if line is not None:
        assert first["line"] == line, job.problems
    else:
        assert first["line"] is not None
    assert first["field"] == field, job.problems
    assert reason in first["reason"], job.problems


def test_the_report_keeps_the_first_hundred_problems_and_counts_them_all(world, tmp_path):
    project, curator = world
    path = tmp_path / "seed.json"
    path.write_text(json.dumps([seed(n, difficulty="9") for n in range(250)]))

    job = import_file(project=project, path=path, created_by=curator)

    assert job.status == ImportStatus.FAILED
    assert job.problem_count == 250 and len(job.problems) == 100
    assert job.problems[99] == {
        "line": 100,
        "unit": "record",
        "file_line": 1,  # the whole array is on one line
        "field": "difficulty",
        "reason": "unknown difficulty '9': use 1 (easiest) to 5 (hardest)",
    }


def test_one_good_and_one_bad_record_write_neither(world, tmp_path):
    project, curator = world
    path = tmp_path / "seed.json"
    path.write_text(json.dumps([seed(1), seed(2, difficulty="")]))

    job = import_file(project=project, path=path, created_by=curator)

    assert job.status == ImportStatus.FAILED
    assert not SeedTask.objects.filter(instruction="Explain finding number 1.").exists()


def test_a_file_over_the_size_limit_is_refused_with_the_setting_named(world, tmp_path, settings):
    project, curator = world
    settings.CONCORD_IMPORT_MAX_BYTES = 1000
    path = tmp_path / "seed.json"
    path.write_text(json.dumps([seed(n) for n in range(50)]))

    with pytest.raises(ValidationError) as refused:
        import_file(project=project, path=path, created_by=curator)

    assert "CONCORD_IMPORT_MAX_BYTES" in refused.value.message_dict["file"][0]
    assert not ImportJob.objects.exists()


def test_an_unknown_format_is_refused(world, tmp_path):
    project, curator = world
    path = tmp_path / "seed.json"
    path.write_text("[]")
    with pytest.raises(ValidationError) as refused:
        import_file(project=project, path=path, format="yaml", created_by=curator)
    assert "alpacare_seed" in refused.value.message_dict["format"][0]


def test_a_test_prompt_already_present_with_another_text_is_a_problem(world, tmp_path):
    project, curator = world
    path = tmp_path / "test.jsonl"
    path.write_bytes(jsonl({"id": "known", "instruction": "What is gout?", "gpt-4-answer": "Arthritis."}))

    job = import_file(project=project, path=path, created_by=curator)

    assert job.problems == [
        {
            "line": 1,
            "unit": "line",
            "field": "id",
            "reason": "prompt 'known' is already in the project with a different instruction",
        }
    ]
