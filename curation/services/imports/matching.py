"""Which of the project's test prompts a record of a file names: checked in pass 1, used in pass 2."""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from curation.formats import Problem, PromptRecord, ResponseRecord
from curation.selectors.imports import answers_of, import_prompt_rows
from curation.text.hashing import content_hash

# A report lists at most this many problems (or realigned records); it counts them all.
MAX_PROBLEMS_KEPT = 100


@dataclass
class PromptIndex:
    """The project's prompts by id and by instruction (ids and hashes: small whatever the file), and the
    model outputs whose prompt was found by its instruction rather than by their id."""

    by_id: dict[str, tuple[int, str, str]] = field(default_factory=dict)  # id -> pk, instruction, hash
    by_instruction: dict[str, str] = field(default_factory=dict)  # instruction -> id, when unique
    realigned: list[dict[str, Any]] = field(default_factory=list)
    realigned_count: int = 0

    @classmethod
    def of_project(cls, project_id: int) -> "PromptIndex":
        index = cls()
        ids_by_instruction: dict[str, list[str]] = defaultdict(list)
        for pk, external_id, instruction, hash_ in import_prompt_rows(project_id=project_id):
            index.by_id[external_id] = (pk, instruction.strip(), hash_)
            ids_by_instruction[instruction.strip()].append(external_id)
        index.by_instruction = {text: ids[0] for text, ids in ids_by_instruction.items() if len(ids) == 1}
        return index

    def prompt_problems(self, record: PromptRecord, unit: str) -> list[Problem]:
        """A prompt whose id is taken by another instruction is refused; the same prompt again is skipped later."""
        existing = self.by_id.get(record.external_id)
        if existing and existing[2] != content_hash(record.instruction, record.input):
            reason = f"prompt {record.external_id!r} is already in the project with a different instruction"
            return [Problem(record.line, "id", reason, unit)]
        return []

    def response_problems(self, record: ResponseRecord, unit: str) -> list[Problem]:
        if self.prompt_for(record) is not None:
            return []
        if record.prompt_id not in self.by_id:
            return [Problem(record.line, "id", f"no prompt with id {record.prompt_id!r} in this project", unit)]
        reason = f"does not match the instruction of prompt {record.prompt_id!r}, nor any other prompt's"
        return [Problem(record.line, "instruction", reason, unit)]

    def prompt_for(self, record: ResponseRecord) -> str | None:
        """The prompt a model output answers: its id, checked by the instruction text.

        When the id names a prompt with another instruction but exactly one prompt has this record's
        instruction, the text wins and the realignment is reported (the published AlpaCare model
        outputs number the test prompts by position, so from id 143 on they are one behind).
        """
        instruction = record.instruction.strip()
        by_id = self.by_id.get(record.prompt_id)
        if by_id is not None and by_id[1] == instruction:
            return record.prompt_id
        matched = self.by_instruction.get(instruction)
        if matched is not None:
            self.realigned_count += 1
            if len(self.realigned) < MAX_PROBLEMS_KEPT:
                self.realigned.append({"line": record.line, "id": record.prompt_id, "prompt": matched})
        return matched

    def realignment_report(self) -> dict[str, Any]:
        if not self.realigned_count:
            return {}
        return {"realigned": self.realigned, "realigned_count": self.realigned_count}


class AnswerTwins:
    """Answers of a file that the project already holds word for word under another model's name.

    The same answers under a second name would double every count and comparison; an import whose
    every answer is such a twin is refused unless the person says it is meant.
    """

    def __init__(self, project_id: int):
        self.known: dict[tuple[str, str], set[str]] = defaultdict(set)
        for item_hash, model_name, text in answers_of(project_id=project_id):
            self.known[item_hash, content_hash(text)].add(model_name)
        self.counts: dict[str, list] = {}  # model -> [answers, twins, other model names]

    def observe(self, *, model_name: str, item_hash: str, text: str) -> None:
        count = self.counts.setdefault(model_name, [0, 0, set()])
        count[0] += 1
        others = self.known.get((item_hash, content_hash(text)), set()) - {model_name}
        if others:
            count[1] += 1
            count[2] |= others

    def problems(self, *, file_name: str) -> list[Problem]:
        found = []
        for model_name, (answers, twins, others) in self.counts.items():
            if answers and twins == answers:
                reason = (
                    f"all {answers:,} answers of {file_name} are already in the project, word for word, as the "
                    f"answers of {', '.join(sorted(others))}; importing them as {model_name!r} would make a second "
                    "copy. If that is meant, allow duplicate answers (--allow-duplicate-answers)"
                )
                found.append(Problem(None, "model", reason))
        return found
