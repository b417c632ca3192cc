import errno
import json
import os

import pytest
from django.core.management import CommandError, call_command

from curation.models import ModelResponse, Rubric, RubricGrade
from curation.services.rubrics import rubric_grade_submit
from tests.rubrics import healthbench_rows


def _write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _sorted_lines(path):
    return [json.dumps(json.loads(line), sort_keys=True) for line in path.read_text(encoding="utf-8").splitlines()]


def test_rubric_rows_import_and_export_unchanged(project, tmp_path):
    source = tmp_path / "healthbench.jsonl"
    _write(source, healthbench_rows.rubric_rows())
    call_command("import_rubrics", str(source), "--project", project.slug)
    call_command("phi_scan", "--project", project.slug)  # nothing unscanned leaves
    out = tmp_path / "out.jsonl"
    call_command("export_rubrics", "--project", project.slug, "--format", "rubrics", "--out", str(out))
    assert _sorted_lines(out) == _sorted_lines(source)
    assert Rubric.objects.filter(project=project, status="accepted").count() == 10
    # The consensus criterion is written once in the library and reused by every rubric.
    assert project.consensus_criteria.count() == 1


def test_meta_eval_rows_import_and_export_unchanged(project, tmp_path):
    rubrics, labels = tmp_path / "rubrics.jsonl", tmp_path / "labels.jsonl"
    _write(rubrics, healthbench_rows.rubric_rows())
    _write(labels, healthbench_rows.meta_eval_rows())
    call_command("import_rubrics", str(rubrics), "--project", project.slug)
    call_command("import_rubrics", str(labels), "--project", project.slug)
    call_command("phi_scan", "--project", project.slug)
    out = tmp_path / "out.jsonl"
    call_command("export_rubrics", "--project", project.slug, "--format", "meta_eval", "--out", str(out))
    assert _sorted_lines(out) == _sorted_lines(labels)
    assert RubricGrade.objects.filter(physician="phys-7").count() == 8


def test_meta_eval_export_names_clinicians_by_pseudonym_only(project, tmp_path, clinician):
    source = tmp_path / "rubrics.jsonl"
    _write(source, healthbench_rows.rubric_rows()[:1])
    call_command("import_rubrics", str(source), "--project", project.slug)
    rubric = Rubric.objects.get()
    response = ModelResponse.objects.create(prompt=rubric.prompt, model_name="m", text="Rest.", content_hash="x")
    criteria = rubric.versions.get().criteria.all()
    rubric_grade_submit(response=response, grader=clinician, marks={c.pk: c.order == 0 for c in criteria})
    call_command("phi_scan", "--project", project.slug)
    out = tmp_path / "out.jsonl"
    call_command("export_rubrics", "--project", project.slug, "--format", "meta_eval", "--out", str(out))
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["binary_labels"] for r in rows] == [[True], [False], [False]]
    ids = {r["anonymized_physician_ids"][0] for r in rows}
    assert len(ids) == 1 and ids.pop().startswith("clinician-")
    assert clinician.email not in out.read_text() and str(clinician.pk) not in ids


def test_rubrics_leave_only_once_their_prompts_are_scanned_and_clear_of_phi(project, tmp_path, capsys):
    rows = healthbench_rows.rubric_rows()[:3]
    rows[1]["prompt"][0]["content"] = "Question 1: call me back on 617-555-0199 about the fever, what now?"
    rows[0]["prompt"][1:1] = [{"role": "assistant", "content": "Is this Dr. Alan Whitfield's patient, MRN 48213377?"}]
    source, out = tmp_path / "rubrics.jsonl", tmp_path / "out.jsonl"
    _write(source, rows)
    call_command("import_rubrics", str(source), "--project", project.slug)

    call_command("export_rubrics", "--project", project.slug, "--format", "rubrics", "--out", str(out))
    assert out.read_text() == ""  # nothing is scanned yet
    assert "Held back 3 row(s) for PHI: its prompt is not scanned as it is now" in capsys.readouterr().out

    call_command("phi_scan", "--project", project.slug)
    call_command("export_rubrics", "--project", project.slug, "--format", "rubrics", "--out", str(out))
    exported = [json.loads(line)["prompt_id"] for line in out.read_text().splitlines()]
    said = capsys.readouterr().out
    # hb-001's prompt has an open finding; hb-000's earlier turn names a doctor and a record number,
    # which only the rubric stores: no curator has seen it, so it does not leave either.
    assert exported == ["hb-002"]
    assert "Held back 1 row(s) for PHI: its prompt is not scanned as it is now, or has an open PHI finding" in said
    assert "Held back 1 row(s) for PHI: the scanner finds PHI in a turn of its conversation" in said


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda r: r["rubrics"][1].update(points=11),
            r"line 2 \(prompt_id 'hb-001'\), rubrics\[1\].points: 11 is outside",
        ),
        (lambda r: r["rubrics"][0].update(points=2.5), r"rubrics\[0\].points: 2.5 is not a whole number"),
        (lambda r: r["rubrics"][0].update(tags=["axis:accuracy"]), r"needs exactly one level: tag"),
    ],
)
def test_a_bad_row_is_refused_naming_line_and_field_and_nothing_is_imported(project, tmp_path, change, message):
    rows = healthbench_rows.rubric_rows()
    change(rows[1])
    source = tmp_path / "bad.jsonl"
    _write(source, rows)
    with pytest.raises(CommandError, match=message):
        call_command("import_rubrics", str(source), "--project", project.slug)
    assert not Rubric.objects.exists()


def test_labels_for_a_prompt_without_rubric_say_to_import_the_rubric_first(project, tmp_path):
    source = tmp_path / "labels.jsonl"
    _write(source, healthbench_rows.meta_eval_rows())
    with pytest.raises(
        CommandError, match="line 1: no rubric in this project for prompt hb-000; import its rubric row first"
    ):
        call_command("import_rubrics", str(source), "--project", project.slug)


def test_export_to_a_folder_that_does_not_exist_is_refused_naming_out_and_the_folder(project, tmp_path):
    out = tmp_path / "missing" / "rubrics.jsonl"
    with pytest.raises(CommandError) as refused:
        call_command("export_rubrics", "--project", project.slug, "--format", "rubrics", "--out", str(out))
    assert refused.value.returncode == 1
    assert str(refused.value) == f"--out: the folder {out.parent} does not exist (for {out}); create it first"
    assert not out.parent.exists()


def test_export_to_a_folder_path_is_refused_and_the_folder_left_empty(project, tmp_path):
    out = tmp_path / "exports"
    out.mkdir()
    with pytest.raises(CommandError) as refused:
        call_command("export_rubrics", "--project", project.slug, "--format", "rubrics", "--out", str(out))
    assert str(refused.value) == f"--out: {out} is a folder; give the path of a file in it"
    assert list(out.iterdir()) == []


def test_a_failed_export_write_names_the_file_and_leaves_the_old_one_whole(project, tmp_path, monkeypatch):
    out = tmp_path / "rubrics.jsonl"
    out.write_text("the previous export\n")

    def replace_refused(source, target):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(os, "replace", replace_refused)
    with pytest.raises(CommandError) as refused:
        call_command("export_rubrics", "--project", project.slug, "--format", "rubrics", "--out", str(out))
    assert str(refused.value) == f"--out: could not write {out}: Permission denied"
    assert out.read_text() == "the previous export\n"
    assert [path.name for path in tmp_path.iterdir()] == ["rubrics.jsonl"]
