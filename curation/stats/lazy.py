"""numpy and scipy, imported the first time a statistic needs them.

Every process imports the statistics packages: pages, services and commands use their constants,
types and functions. numpy and scipy take about a third of a second and tens of MB to import, and
only the computations themselves use them (mostly in the worker's jobs), so `manage.py` commands
and web workers start without them: the modules here name them through `lazy_module`.
"""

import importlib
from types import ModuleType
from typing import Any, cast


class _LazyModule:
    """Stands for a module until one of its attributes is first read, then imports it. Each attribute
    read is kept on this object, so later reads cost what a module's do."""

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_lazy_name", name)

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(importlib.import_module(self._lazy_name), attribute)
        object.__setattr__(self, attribute, value)
        return value

    def __repr__(self) -> str:
        return f"<module {self._lazy_name!r}, imported when first used>"


def lazy_module(name: str) -> ModuleType:
    """`name` (say "numpy"), imported when one of its attributes is first read."""
    return cast(ModuleType, _LazyModule(name))
