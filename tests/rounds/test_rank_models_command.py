"""`manage.py rank_models --votes FILE.csv`: ratings and win rates as JSON, clear errors for bad files."""

import io
import json
import math

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def run(path, *args) -> dict:
    out = io.StringIO()
    call_command("rank_models", "--votes", str(path), "--draws", "200", *args, stdout=out)
    return json.loads(out.getvalue())


def write(tmp_path, text: str):
    path = tmp_path / "votes.csv"
    path.write_text(text, encoding="utf-8")
    return path


THREE_WINS_IN_FOUR = "prompt,model_a,model_b,winner\nq1,A,B,a\nq2,B,A,b\nq3,A,B,a\nq4,A,B,b\n"


def test_prints_elo_ratings_win_rates_and_counts_as_json(tmp_path):
    result = run(write(tmp_path, THREE_WINS_IN_FOUR), "--reference", "B")
    ratings = {row["model"]: row for row in result["bradley_terry"]["ratings"]}
    assert ratings["B"]["rating"] == 1000.0
    assert ratings["A"]["rating"] == pytest.approx(1000 + 400 * math.log10(3))
    [against] = result["win_rates"]["against_reference"]
    assert (against["model"], against["wins"], against["ties"], against["losses"]) == ("A", 3, 0, 1)
    assert against["win_rate"] == 0.75
    assert (result["votes"], result["prompts"], result["models"]) == (4, 4, ["A", "B"])
    assert result["bradley_terry"]["draws"] == 200


def test_columns_may_come_in_any_order_with_optional_lengths_and_sides(tmp_path):
    path = write(
        tmp_path,
        "winner,prompt,model_b,model_a,a_side,length_a,length_b\n"
        "A,q1,B,A,left,300,100\n"
        "tie,q2,B,A,right,100,100\n"
        "b,q3,B,A,Left,120,400\n",
    )
    result = run(path)
    assert result["position_bias"]["decisive"] == 2
    assert result["position_bias"]["left_wins"] == 1
    assert result["length_bias"]["votes"] == 3
    assert result["length_bias"]["longer_win_rate"] == 1.0


def test_the_seed_makes_the_output_repeatable(tmp_path):
    path = write(tmp_path, THREE_WINS_IN_FOUR)
    assert run(path, "--seed", "4") == run(path, "--seed", "4")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("prompt,model_a,model_b\nq1,A,B\n", "line 1: the header must have the columns prompt,model_a,model_b,winner"),
        ("prompt,model_a,model_b,winner,reviewer\nq1,A,B,a,x\n", "line 1: unknown column(s) 'reviewer'"),
        ("prompt,model_a,model_b,winner\n", "no votes after the header"),
        ("prompt,model_a,model_b,winner\nq1,A,B,a\nq2,A,B,draw\n", "line 3: the winner must be one of a, b, tie"),
        ("prompt,model_a,model_b,winner\nq1,A,B,a\n\nq2,A,A,b\n", "line 4: model 'A' is compared with itself"),
        ("prompt,model_a,model_b,winner\nq1,A,B\n", "line 2: expected 4 columns, found 3"),
        ("prompt,model_a,model_b,winner\n,A,B,a\n", "line 2: the prompt is missing"),
        ("prompt,model_a,model_b,winner,length_a\nq1,A,B,a,long\n", "line 2: length_a must be a non-negative number"),
        ("prompt,model_a,model_b,winner,a_side\nq1,A,B,a,top\n", "line 2: a_side must be left or right"),
        (
            "prompt,model_a,model_b,winner\nq1,A,B,a\n" + f'q2,"{"x" * 200_000}",B,a\n',
            "line 3: not readable as CSV (field larger than field limit",
        ),
    ],
)
def test_a_bad_file_is_refused_naming_the_line(tmp_path, text, message):
    with pytest.raises(CommandError) as error:
        run(write(tmp_path, text))
    assert message in str(error.value)


def test_an_unknown_reference_is_refused_listing_the_models(tmp_path):
    with pytest.raises(CommandError, match=r"--reference 'C' does not appear .* the models are A, B"):
        run(write(tmp_path, THREE_WINS_IN_FOUR), "--reference", "C")


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="cannot open"):
        run(tmp_path / "absent.csv")


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b"\xff\xfep\x00r\x00", r"byte 0xff at offset 0, line 1\); it looks like UTF-16"),
        ("prompt,model_a,model_b,winner\nq1,Bérard,B,a\n".encode("latin-1"), r"byte 0xe9 at offset 34, line 2\)"),
        (b"\xef\xbb\xbfprompt,model_a,model_b,winner\nq1,A,\x80,a\n", r"byte 0x80 at offset 38, line 2\)"),
    ],
    ids=["utf-16", "latin-1", "after-a-byte-order-mark"],
)
def test_a_file_that_is_not_utf8_is_refused_naming_it_and_the_bad_byte(tmp_path, data, where):
    path = tmp_path / "votes.csv"
    path.write_bytes(data)
    with pytest.raises(CommandError, match=rf"votes\.csv: not UTF-8 text \({where}.*save it as UTF-8"):
        run(path)


def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path):
    path = tmp_path / "votes.csv"
    path.write_bytes(b"\xef\xbb\xbf" + THREE_WINS_IN_FOUR.encode())
    assert run(path)["votes"] == 4
