"""`make run`'s web server and worker on SQLite with no broker, at the size of the data people have:
jobs never hold a request, no request fails, nothing is lost."""

import pytest

from bench.embedded_load import ISSUE_SIZE, run_load

pytestmark = pytest.mark.slow


def test_clinicians_autosave_and_submit_while_an_import_and_a_release_run_on_the_worker(tmp_path):
    # A 52,000-task project; 20 clinicians autosave every 2 s and submit for 60 s while a curator imports a
    # 50,000-record file and builds a release. The import commits batch by batch and the release reads a
    # snapshot, so neither holds SQLite's one write lock for long (BENCHMARKS.md, "Embedded default under load").
    load = run_load(workdir=tmp_path, **ISSUE_SIZE)

    assert load.setup["tasks"] == ISSUE_SIZE["tasks"]
    assert load.failures == []
    assert load.checked["lost_reviews"] == [] and len(load.submitted) >= ISSUE_SIZE["clinicians"]
    assert load.checked["lost_drafts"] == []
    assert load.checked["imports"][-1] == ["succeeded", ISSUE_SIZE["import_records"]]
    assert load.checked["releases"] == ["succeeded"]
