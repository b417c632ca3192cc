"""Which model wrote a file's answers, when neither the person nor the records say: from the file's path.

Evaluation runs are often laid out as `<model>/<eval set>/seed_0.json`; the file name then says
nothing about the model, and a notebook leaves `seed_0-checkpoint.json` copies beside it.
"""

import re
from pathlib import PurePosixPath

# File and directory names that name a run, a split or a container rather than a model.
_GENERIC = re.compile(
    r"^(seed[_-]?\d*|run[_-]?\d*|\d+|outputs?|results?|predictions?|generations?|responses?|answers?|"
    r"completions?|samples?|data|eval|evals|test|dev|valid|validation|train|model_outputs|checkpoints?|"
    r"\.ipynb_checkpoints|latest|final)$",
    re.IGNORECASE,
)
CHECKPOINT_SUFFIX = "-checkpoint"


def _stem(name: str) -> str:
    stem = name.split(".")[0].strip()
    if stem.endswith(CHECKPOINT_SUFFIX):
        stem = stem[: -len(CHECKPOINT_SUFFIX)]
    return stem


def is_generic(name: str) -> bool:
    return bool(_GENERIC.match(_stem(name))) or not _stem(name)


def model_from_path(path: str, *, batch_depth: int = 0) -> str:
    """The model a file's path names: its name, unless generic; then a directory's.

    `batch_depth` is how many of the path's directories lie inside the folder or zip being imported:
    there the topmost directory that is not generic names the model (`<model>/<eval set>/seed_0.json`).
    A file given alone is taken to be laid out the same way: its grandparent, else its parent.
    Empty when nothing in the path names a model.
    """
    parts = PurePosixPath(path.replace("\\", "/")).parts
    name, directories = parts[-1], [d for d in parts[:-1] if d not in ("/", "")]
    if not is_generic(name):
        return _stem(name)
    if batch_depth:
        inside = [d for d in directories[len(directories) - batch_depth :] if not is_generic(d)]
        return _stem(inside[0]) if inside else ""
    # A file given alone: `<model>/<eval set>/seed_0.json`, else `<model>/seed_0.json`.
    named = [d for d in directories[-2:] if not is_generic(d)]
    return _stem(named[0]) if named else ""


def is_checkpoint_copy(path: str) -> bool:
    """A notebook's autosave copy: a duplicate of a file beside it, never data of its own."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    return ".ipynb_checkpoints" in parts or parts[-1].split(".")[0].endswith(CHECKPOINT_SUFFIX)
