"""The agreement command on a ratings CSV: missing ratings are left out, numbers compare as numbers."""

import json
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from curation.management.commands.agreement import MISSING, missing_parse
from tests.agreement.test_stats import KRIPPENDORFF_2011

PUBLISHED = [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)]
N_MISSING = int(np.isnan(KRIPPENDORFF_2011).sum())


def _csv(tmp_path, lines: list[str]):
    path = tmp_path / "ratings.csv"
    path.write_text("\n".join(["unit,rater,value", *lines]) + "\n", encoding="utf-8")
    return path


def _krippendorff_csv(tmp_path, missing: str):
    """Krippendorff's reliability data as a long CSV with every cell present, `missing` where nobody rated."""
    lines = []
    for unit, row in enumerate(KRIPPENDORFF_2011, start=1):
        for rater, value in zip("ABCD", row, strict=True):
            lines.append(f"u{unit},{rater},{missing if np.isnan(value) else int(value)}")
    return _csv(tmp_path, lines)


def _run(path, *args) -> tuple[dict, str]:
    out, err = StringIO(), StringIO()
    call_command("agreement", "--ratings", str(path), "--draws", "0", *args, stdout=out, stderr=err)
    return json.loads(out.getvalue()), err.getvalue()


@pytest.mark.parametrize("missing", [".", "NA", ""], ids=["dot", "NA", "empty"])
@pytest.mark.parametrize(("level", "published"), PUBLISHED)
def test_krippendorffs_example_with_missing_cells_written_out_gives_the_published_alpha(
    tmp_path, missing, level, published
):
    result, _ = _run(_krippendorff_csv(tmp_path, missing), "--level", level)

    assert round(result["alpha"]["value"], 3) == published
    assert result["n_ratings"] == KRIPPENDORFF_2011.size - N_MISSING
    assert result["missing"]["n_ratings"] == N_MISSING
    assert result["missing"]["spellings"] == {missing: N_MISSING}


def test_a_missing_rating_is_not_a_nominal_category(tmp_path):
    result, _ = _run(_krippendorff_csv(tmp_path, "."), "--level", "nominal")

    assert result["categories"] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(("level", "published"), PUBLISHED)
def test_custom_missing_spellings_replace_the_default_ones(tmp_path, level, published):
    # -9 would be a number on every scale: only --missing can say it means "not rated".
    result, _ = _run(_krippendorff_csv(tmp_path, "-9"), "--level", level, "--missing", "?,-9")

    assert round(result["alpha"]["value"], 3) == published
    assert result["missing"]["spellings"] == {"-9": N_MISSING}
    assert result["missing"]["treated_as_missing"] == ["?", "-9"]


def test_with_custom_spellings_na_is_a_nominal_category_again_and_an_error_on_a_numeric_scale(tmp_path):
    path = _krippendorff_csv(tmp_path, "NA")

    nominal, _ = _run(path, "--missing", "?")
    assert "NA" in nominal["categories"] and nominal["missing"]["n_ratings"] == 0
    with pytest.raises(CommandError, match=r"line 4: the value 'NA' is not a number; the ordinal level needs"):
        _run(path, "--level", "ordinal", "--missing", "?")


def test_an_empty_cell_is_missing_only_while_the_list_has_an_empty_item(tmp_path):
    path = _csv(tmp_path, ["u1,A,1", "u1,B,", "u2,A,2", "u2,B,2", "u3,A,?", "u3,B,1"])

    with pytest.raises(CommandError, match="line 3: the value is missing, and --missing does not count empty"):
        _run(path, "--missing", "?")
    result, _ = _run(path, "--missing", "?,")
    assert result["missing"]["spellings"] == {"": 1, "?": 1}
    assert result["n_ratings"] == 4


def test_every_default_spelling_is_missing_whatever_its_case_and_surrounding_spaces(tmp_path):
    spellings = ["NA", "na", " N/A ", "n/a", ".", "NULL", "null", "-", ""]
    lines = [f"u{i},A,{spelling}" for i, spelling in enumerate(spellings)]
    lines += [f"u{i},B,{1 + i % 2}" for i in range(len(spellings))]
    lines += ["x1,A,1", "x1,B,1", "x2,A,2", "x2,B,1"]

    result, _ = _run(_csv(tmp_path, lines), "--level", "interval")

    assert result["missing"]["n_ratings"] == len(spellings)
    assert sum(result["missing"]["spellings"].values()) == len(spellings)
    assert set(result["missing"]["spellings"]) == {s.strip() for s in spellings}
    assert result["n_units"] == 2 and result["n_ratings"] == len(spellings) + 4
    assert [s.casefold() for s in result["missing"]["treated_as_missing"]] == [s.casefold() for s in MISSING]


def test_a_note_on_stderr_says_how_many_ratings_were_left_out_and_nothing_when_none_were(tmp_path):
    _, note = _run(_krippendorff_csv(tmp_path, "NA"))
    assert note.count("\n") == 1
    assert f"{N_MISSING} missing ratings left out ('NA' x{N_MISSING})" in note

    rated = [line for line in _krippendorff_csv(tmp_path, ".").read_text().splitlines()[1:] if not line.endswith(",.")]
    result, quiet = _run(_csv(tmp_path, rated))
    assert quiet == ""
    assert result["missing"] == {"n_ratings": 0, "spellings": {}, "treated_as_missing": list(MISSING)}


def test_one_and_one_point_zero_are_one_nominal_category(tmp_path):
    typed = _csv(tmp_path, ["u1,A,1", "u1,B,1.0", "u2,A,2.00", "u2,B,2", "u3,A,1e0", "u3,B,1", "u4,A,2", "u4,B,1"])
    result, _ = _run(typed, "--level", "nominal")

    assert result["categories"] == [1, 2]
    assert result["percent_agreement"]["value"] == pytest.approx(3 / 4)
    (tmp_path / "plain").mkdir()
    plain = _csv(tmp_path / "plain", ["u1,A,1", "u1,B,1", "u2,A,2", "u2,B,2", "u3,A,1", "u3,B,1", "u4,A,2", "u4,B,1"])
    assert result["alpha"] == _run(plain, "--level", "nominal")[0]["alpha"]


def test_a_nominal_column_mixing_numbers_and_text_keeps_text_as_typed_after_the_numbers(tmp_path):
    lines = ["u1,A,2", "u1,B,2.0", "u2,A,yes", "u2,B,Yes", "u3,A,10", "u3,B,yes", "u4,A,no", "u4,B,no"]

    result, note = _run(_csv(tmp_path, lines), "--level", "nominal")

    # Numbers by value (10 after 2, not before it as text would sort), then text exactly as typed.
    assert result["categories"] == [2, 10, "Yes", "no", "yes"]
    assert result["percent_agreement"]["value"] == pytest.approx(2 / 4)
    assert "the values mix numbers and text ('Yes', 'no', 'yes')" in note


def test_a_missing_rating_still_claims_its_unit_and_rater_so_a_second_row_is_refused(tmp_path):
    path = _csv(tmp_path, ["u1,A,NA", "u1,B,2", "u1,A,3"])

    with pytest.raises(CommandError, match="line 4: rater 'A' already rated unit 'u1' on line 2"):
        _run(path)


def test_a_file_of_only_missing_ratings_is_refused_with_how_many_were_missing(tmp_path):
    with pytest.raises(CommandError, match=r"no ratings after the header \(2 missing\)"):
        _run(_csv(tmp_path, ["u1,A,NA", "u1,B,."]))


@pytest.mark.parametrize(
    ("lines", "level", "message"),
    [
        (["u1,A,1", "u1,B,-1"], "ratio", "line 3: the ratio level needs non-negative values"),
        (["u1,A,1", "u1,B,n.a."], "interval", r"line 3: the value 'n.a.' is not a number.*one of: empty, 'NA'"),
        (["u1,A,1", ",B,2"], "nominal", "line 3: the unit is missing"),
        (["u1,A,1", "u1,B,inf"], "ordinal", "line 3: the value 'inf' is not a number"),
        (["u1,A,1", f'u1,B,"{"9" * 200_000}"'], "interval", r"line 3: not readable as CSV \(field larger than"),
    ],
)
def test_other_bad_values_are_still_refused_with_their_line(tmp_path, lines, level, message):
    out = StringIO()
    with pytest.raises(CommandError, match=message):
        call_command("agreement", "--ratings", str(_csv(tmp_path, lines)), "--level", level, stdout=out)
    assert out.getvalue() == ""


def test_the_missing_list_is_comma_separated_stripped_and_an_empty_item_means_empty_cells():
    assert missing_parse(" NA , ?,,-99") == ("NA", "?", "", "-99")
    assert missing_parse("") == ("",)


def test_a_ratings_file_that_is_not_utf8_is_refused_naming_it_and_the_bad_byte(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_bytes(b"unit,rater,value\nu1,A,1\nu1,B,\xff\n")
    out = StringIO()
    with pytest.raises(CommandError, match=r"ratings\.csv: not UTF-8 text \(byte 0xff at offset 29, line 3\)"):
        call_command("agreement", "--ratings", str(path), "--level", "ordinal", stdout=out)
    assert out.getvalue() == ""
