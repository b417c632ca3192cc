"""Run the benchmarks and write their figures into BENCHMARKS.md.

    python -m bench              # every benchmark
    python -m bench imports      # only bench/bench_imports.py

Each `bench/bench_<name>.py` defines `run() -> str`, returning a Markdown section (a heading, the
setup, the figures and the target). Benchmarks run against a throwaway database created next to
the one DATABASE_URL names (PostgreSQL in a real measurement) and dropped afterwards.
"""

import importlib
import os
import pkgutil
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "BENCHMARKS.md"
SECTION_START = "<!-- bench:{name} -->"
SECTION_END = "<!-- /bench:{name} -->"


def _available() -> list[str]:
    return sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name.startswith("bench_")
    )


def _write_section(name: str, body: str) -> None:
    """Replace this benchmark's section in BENCHMARKS.md, keeping the others' figures."""
    start, end = SECTION_START.format(name=name), SECTION_END.format(name=name)
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n\nWritten by `make bench`.\n"
    block = f"{start}\n{body.strip()}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text)


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    names = argv or _available()
    unknown = sorted(set(names) - set(_available()))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(_available())}", file=sys.stderr)
        return 2
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    machine = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    try:
        for name in names:
            module = importlib.import_module(f"bench.bench_{name}")
            print(f"== {name}", flush=True)
            body = module.run()
            stamp = f"\n\n_Measured {datetime.now(UTC):%Y-%m-%d} on {machine}, database {connection.vendor}._"
            _write_section(name, body + stamp)
            print(body, flush=True)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
