"""Prompt/response pairs: `{"prompt": "Human: ...\n\nAssistant:", "response": "..."}`.

A prompt written as Human:/Assistant: turns becomes a chat prompt: the last Human turn is the
instruction, the turns before it the input (as a "Human: ... / Assistant: ..." transcript), so no
turn is dropped. A prompt without turn markers is the instruction as it is.
"""

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from curation.formats.base import PairRecord, Problem, RawRecord, get_text
from curation.formats.outputs_with_prompts import pair_record
from curation.formats.streams import iter_json_records

NAME = "prompt_response"
FIELDS = frozenset({"id", "prompt", "response", "model", "generator", "dataset", "raw_output"})
_TURN = re.compile(r"(?:^|\n+)\s*(Human|Assistant):[ \t]*", re.MULTILINE)


def detect(keys: set[str]) -> bool:
    return {"prompt", "response"} <= keys and "instruction" not in keys


def split_turns(prompt: str) -> tuple[str, str]:
    """(instruction, input): the last Human turn, and the conversation before it."""
    marks = list(_TURN.finditer(prompt))
    if not marks or prompt[: marks[0].start()].strip():
        return prompt.strip(), ""
    turns = []
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        text = prompt[mark.end() : following.start() if following else len(prompt)].strip()
        turns.append((mark.group(1), text))
    if turns and turns[-1] == ("Assistant", ""):
        turns.pop()  # the open turn the model was asked to fill
    humans = [i for i, (role, _) in enumerate(turns) if role == "Human"]
    if not humans:
        return prompt.strip(), ""
    last = humans[-1]
    context = [f"{role}: {text}" for role, text in turns[:last]] + [f"{r}: {t}" for r, t in turns[last + 1 :]]
    return turns[last][1], "\n\n".join(context)


def parse_records(raws: Iterable[RawRecord | Problem]) -> Iterator[PairRecord | Problem]:
    for raw in raws:
        if isinstance(raw, Problem):
            yield raw
            continue
        problems: list[Problem] = []
        instruction, task_input = split_turns(get_text(raw, "prompt", required=True, problems=problems))
        if "prompt" in raw.data and not problems and not instruction:
            problems.append(raw.problem("prompt", "the last Human: turn is empty"))
        record = pair_record(raw, problems, instruction=instruction, task_input=task_input)
        yield from problems or [record]


def parse(path: Path) -> Iterator[PairRecord | Problem]:
    return parse_records(iter_json_records(path))
