"""export_dataset checks the files it is to write before it builds a release or rotates a key, and
writes each whole or not at all: a bad --out or --card is a message naming it, not a traceback."""

import errno
import io
import os
import shutil

import pytest
from django.core.management import CommandError, call_command

from curation.models import Release, ReleaseKey, TaskStatus
from curation.services.releases import release_key_get
from tests.factories import SeedTaskFactory


@pytest.fixture
def accepted(project):
    return SeedTaskFactory.create_batch(2, project=project, status=TaskStatus.ACCEPTED)


def _refused(project, *args: str) -> CommandError:
    with pytest.raises(CommandError) as refused:
        call_command("export_dataset", "--project", project.slug, *args, stdout=io.StringIO())
    return refused.value


def test_an_out_in_a_folder_that_does_not_exist_is_refused_before_a_release_is_built(project, accepted, tmp_path):
    out = tmp_path / "missing" / "data.jsonl"

    refused = _refused(project, "--format", "alpaca", "--out", str(out))

    assert refused.returncode == 1
    assert str(refused) == f"--out: the folder {tmp_path / 'missing'} does not exist (for {out}); create it first"
    assert not (tmp_path / "missing").exists()
    assert not Release.objects.exists()


def test_a_folder_given_as_out_is_refused_before_a_release_is_built(project, accepted, tmp_path):
    out = tmp_path / "exports"
    out.mkdir()

    refused = _refused(project, "--format", "alpaca", "--out", str(out))

    assert refused.returncode == 1
    assert str(refused) == f"--out: {out} is a folder; give the path of a file in it"
    assert list(out.iterdir()) == []
    assert not Release.objects.exists()


def test_an_out_that_is_not_a_regular_file_is_refused_and_left_in_place(project, accepted, tmp_path):
    out = tmp_path / "pipe"
    os.mkfifo(out)

    refused = _refused(project, "--format", "alpaca", "--out", str(out))

    assert str(refused) == f"--out: {out} is not a regular file"
    assert out.is_fifo()
    assert not Release.objects.exists()


def test_a_card_in_a_folder_that_does_not_exist_is_refused_before_the_data_is_written(project, accepted, tmp_path):
    out, card = tmp_path / "data.jsonl", tmp_path / "missing" / "README.md"

    refused = _refused(project, "--format", "alpaca", "--out", str(out), "--card", str(card))

    assert str(refused).startswith(f"--card: the folder {tmp_path / 'missing'} does not exist")
    assert not out.exists()
    assert not Release.objects.exists()


def test_a_card_on_the_data_file_itself_is_refused(project, accepted, tmp_path):
    out = tmp_path / "data.jsonl"

    refused = _refused(project, "--format", "alpaca", "--out", str(out), "--card", str(out))

    assert str(refused).startswith(f"--card: {out} is the --out file")
    assert not out.exists()
    assert not Release.objects.exists()


def test_rotating_the_key_with_an_export_but_no_out_leaves_the_key_as_it_was(project, accepted):
    key = release_key_get(project=project)

    refused = _refused(project, "--rotate-pseudonym-key", "--format", "alpaca")

    assert refused.returncode == 1
    assert str(refused) == "--out: required to export (or give --rotate-pseudonym-key alone)"
    after = ReleaseKey.objects.get(project=project)
    assert (after.secret, after.rotated_at) == (key.secret, key.rotated_at)
    assert not Release.objects.exists()


def test_rotating_the_key_with_a_bad_out_leaves_the_key_as_it_was(project, accepted, tmp_path):
    key = release_key_get(project=project)

    refused = _refused(
        project, "--rotate-pseudonym-key", "--format", "alpaca", "--out", str(tmp_path / "missing" / "data.jsonl")
    )

    assert str(refused).startswith("--out: the folder")
    assert ReleaseKey.objects.get(project=project).secret == key.secret
    assert not Release.objects.exists()


def test_rotating_the_key_with_a_refused_release_leaves_the_key_as_it_was(project, accepted, tmp_path):
    key = release_key_get(project=project)
    out = tmp_path / "data.jsonl"

    refused = _refused(project, "--rotate-pseudonym-key", "--format", "alpaca", "--out", str(out), "--topic", "Nowhere")

    assert "topics: no task in" in str(refused)
    assert ReleaseKey.objects.get(project=project).secret == key.secret
    assert not out.exists()
    assert not Release.objects.exists()


def test_a_failed_write_names_the_file_and_leaves_the_old_one_whole(project, accepted, tmp_path, monkeypatch):
    out = tmp_path / "data.jsonl"
    out.write_text("the previous export\n")

    def disk_full(source, target, length=0):
        target.write(source.read(10))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(shutil, "copyfileobj", disk_full)
    refused = _refused(project, "--format", "alpaca", "--out", str(out))

    release = Release.objects.get()
    assert refused.returncode == 1
    assert str(refused) == (
        f"Release {release.pk} is built, but not copied. --out: could not write {out}: No space left on device"
    )
    assert out.read_text() == "the previous export\n"
    assert [path.name for path in tmp_path.iterdir() if path.name != "media"] == ["data.jsonl"]


def test_a_written_file_has_the_mode_a_plain_write_gives(project, accepted, tmp_path):
    out = tmp_path / "data.jsonl"
    umask = os.umask(0o022)
    try:
        call_command(
            "export_dataset", "--project", project.slug, "--format", "alpaca", "--out", str(out), stdout=io.StringIO()
        )
    finally:
        os.umask(umask)

    assert out.stat().st_mode & 0o777 == 0o644
