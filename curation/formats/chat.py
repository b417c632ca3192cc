"""Chat JSONL: `{"messages": [{"role": "system"|"user"|"assistant", "content": "..."}, ...]}` per line.

A conversation becomes one seed task: the first user message is the instruction, the last assistant
message the reference output, and any system message or turns in between the input (as a
"role: text" transcript), so nothing in the file is dropped.
"""

from collections.abc import Iterable, Iterator
from pathlib import Path

from curation.formats.base import Problem, RawRecord, SeedTaskRecord, get_difficulty, get_text, text_problem
from curation.formats.streams import iter_jsonl

NAME = "chat"
ROLES = ("system", "user", "assistant")


FIELDS = frozenset({"messages", "topic", "view", "type", "difficulty"})


def detect(keys: set[str]) -> bool:
    return "messages" in keys


def parse(path: Path) -> Iterator[SeedTaskRecord | Problem]:
    return parse_records(iter_jsonl(path))


def parse_records(raws: Iterable[RawRecord | Problem]) -> Iterator[SeedTaskRecord | Problem]:
    for raw in raws:
        if isinstance(raw, Problem):
            yield raw
            continue
        problems: list[Problem] = []
        messages = raw.data.get("messages")
        if not isinstance(messages, list) or not messages:
            yield raw.problem("messages", "required: a non-empty list of {role, content}")
            continue
        turns = []
        for index, message in enumerate(messages):
            where = f"messages[{index}]"
            if not isinstance(message, dict):
                problems.append(raw.problem(where, "must be an object with role and content"))
                continue
            role, content = message.get("role"), message.get("content")
            if role not in ROLES:
                problems.append(raw.problem(f"{where}.role", f"must be one of {', '.join(ROLES)}"))
            if not isinstance(content, str):
                problems.append(raw.problem(f"{where}.content", "must be text"))
            elif bad := text_problem(content):
                problems.append(raw.problem(f"{where}.content", bad))
            else:
                turns.append((role, content))
        if problems:
            yield from problems
            continue
        users = [i for i, (role, _) in enumerate(turns) if role == "user"]
        if not users or turns[-1][0] != "assistant" or users[0] > len(turns) - 2:
            yield raw.problem("messages", "needs a user message and, last, the assistant's answer")
            continue
        first_user = users[0]
        context = [turn for i, turn in enumerate(turns[:-1]) if i != first_user]
        record = SeedTaskRecord(
            line=raw.line,
            instruction=turns[first_user][1],
            input="\n\n".join(f"{role}: {content}" for role, content in context),
            reference_output=turns[-1][1],
            topic=get_text(raw, "topic", required=False, problems=problems, max_length=200).strip(),
            view=get_text(raw, "view", required=False, problems=problems, max_length=200).strip(),
            task_type=get_text(raw, "type", required=False, problems=problems, max_length=200).strip(),
            difficulty=get_difficulty(raw, "difficulty", required=False, problems=problems),
        )
        if not record.instruction.strip():
            problems.append(raw.problem(f"messages[{first_user}].content", "must not be empty"))
        yield from problems or [record]
