"""Where the AlpaCare / MedInstruct files (third-party, CC BY-NC 4.0) are read from; never copied here.

The data lives in `shared/data/alpacare/` beside the checkout (`../shared`). A checkout made
elsewhere (a CI clone in a scratch directory, say) finds it in the nearest ancestor that has
`shared/data/alpacare`, then in the workspace's own `/work/shared`, or wherever
`CONCORD_ALPACARE_DIR` points.

Tests that need the files are marked `needs_alpacare` (tests/markers.py).
"""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKSPACE_DATA = Path("/work/shared/data/alpacare")


def _alpacare_dir() -> Path:
    override = os.environ.get("CONCORD_ALPACARE_DIR")
    if override:
        return Path(override)
    candidates = [base / "shared" / "data" / "alpacare" for base in ROOT.parents]
    candidates.append(WORKSPACE_DATA)
    return next((path for path in candidates if path.is_dir()), candidates[0])


ALPACARE = _alpacare_dir()
SEED = ALPACARE / "med_seed.json"
TEST_SET = ALPACARE / "MedInstruct-test.jsonl"
MODEL_OUTPUTS_DIR = ALPACARE / "model_outputs"


def model_output_files() -> list[Path]:
    return sorted(MODEL_OUTPUTS_DIR.glob("*.json"))


def alpacare_present() -> bool:
    return SEED.is_file() and TEST_SET.is_file() and len(model_output_files()) == 10
