"""Counts as a person reads them: "1 seed task", "2 seed tasks", "1,000 records"."""


def counted(n: int, noun: str, plural: str = "") -> str:
    """`n` (with thousands separators) and the noun, singular for exactly one. The plural is the noun and
    an "s" unless given."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def kind_counted(kind: str, n: int) -> str:
    """A count of one kind of imported item as its report names it ("seed_tasks"): "1 seed task"."""
    return counted(n, kind.replace("_", " ").removesuffix("s"))
