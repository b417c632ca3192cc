"""The problems of an import as a person reads them: the first hundred as found, and every kind grouped.

A thousand records refused for one reason are one group ("1,000 records: no prompt with id …;
first at line 2") with the next step to take, rather than a thousand lines that all say the same.
"""

import re
from typing import Any

from curation.formats import Problem
from curation.text.plural import counted

# A report lists at most this many problems and this many groups; it counts them all.
MAX_KEPT = 100
_VALUES = re.compile(r"'[^']*'|\"[^\"]*\"|\b\d[\d,]*\b")
_NEXT_STEPS = (
    (
        "no prompt with id",
        "import the prompts first (the test set), or import this file as model outputs with their prompts "
        "(format outputs_with_prompts), which creates the prompts it does not find",
    ),
    ("required field is missing", "add the field, or map a column of the file to it (--map field=column)"),
    ("appears twice in one object", "keep one of the two values; JSON readers would silently use the last"),
    ("duplicate id", "give every record its own id, or remove the repeated records"),
    (
        "unknown field",
        "check its spelling, map it to a field (column mapping field=column), or confirm that it may be left out "
        "(import_items: run without --strict; the import page: tick “Import without the fields listed as not "
        "stored”; the API: accept_unknown_fields=true)",
    ),
    ("already in the project, word for word", "name the right model, or allow duplicate answers"),
)


def next_step(reason: str) -> str:
    return next((step for marker, step in _NEXT_STEPS if marker in reason), "")


class ProblemLog:
    def __init__(self):
        self.kept: list[dict[str, Any]] = []
        self.count = 0
        self.groups: dict[tuple[str, str, str], dict[str, Any]] = {}

    def add(self, problem: Problem, file_name: str = "", records: int = 1) -> None:
        """Keep one problem; `records` is how many records it stands for (a field several records share)."""
        self.count += 1
        found = problem.as_dict()
        if file_name:
            found["file"] = file_name
        if len(self.kept) < MAX_KEPT:
            self.kept.append(found)
        pattern = _VALUES.sub("…", problem.reason)
        key = (file_name, problem.field, pattern)
        group = self.groups.get(key)
        if group is not None:
            group["count"] += records
            group["problems"] += 1
        elif len(self.groups) < MAX_KEPT:
            self.groups[key] = {
                "count": records,
                "problems": 1,
                "field": problem.field,
                "reason": pattern,
                "first": found,
                "next_step": next_step(problem.reason),
            }

    def grouped(self) -> list[dict[str, Any]]:
        return sorted(self.groups.values(), key=lambda group: -group["count"])


def where(problem: dict[str, Any]) -> str:
    """ "line 12", "record 4 (line 23)" or "file", with the file's name in a batch."""
    if problem.get("line") is None:
        place = "file"
    else:
        place = f"{problem['unit']} {problem['line']:,}"
        if problem.get("file_line") is not None and problem["unit"] != "line":
            place += f" (line {problem['file_line']:,})"
    return f"{problem['file']}: {place}" if problem.get("file") else place


def group_text(group: dict[str, Any]) -> str:
    """ "150 records: id: no prompt with id … in this project; first at record 1 (line 2)"; a problem of the
    whole file (no line) is said with the file's name in a batch: "b.json: model: nothing … names the model"."""
    field = f"{group['field']}: " if group["field"] else ""
    first = group["first"]
    reason = first["reason"] if group.get("problems", group["count"]) == 1 else group["reason"]
    reason = reason.rstrip().removesuffix(".")  # the place follows after "; ", which a full stop would break
    if first.get("line") is None:
        return f"{first['file'] + ': ' if first.get('file') else ''}{field}{reason}"
    records = counted(group["count"], "record")
    return f"{records}: {field}{reason}; first at {where(first)}"
