"""`make run`'s web server and worker on SQLite with no broker: jobs never hold a request, nothing is lost."""

import pytest

from bench.embedded_load import run_load

pytestmark = pytest.mark.slow


def test_clinicians_autosave_and_submit_while_an_import_and_a_release_run_on_the_worker(tmp_path):
    # A 2,000-record import: its write holds SQLite's one write lock briefly. At 52,000 records that write is
    # long enough for autosaves to time out (BENCHMARKS.md, "Embedded default under load"): not met yet.
    load = run_load(
        workdir=tmp_path, tasks=2_000, import_records=2_000, clinicians=3, items=6, autosave_every=1.0, min_seconds=30
    )

    assert load.failures == []
    assert load.checked["lost_reviews"] == [] and load.submitted
    assert load.checked["lost_drafts"] == []
    assert load.checked["imports"][-1] == ["succeeded", 2_000]
    assert load.checked["releases"] == ["succeeded"]
