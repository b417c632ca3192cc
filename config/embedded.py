"""`make run`: the web server and a background worker side by side, started and stopped together.

    python -m config.embedded [ADDRESS] [--noreload]

Long jobs (imports, releases, agreement reports) are sent to the worker, so no request waits for
one. Without CELERY_BROKER_URL the queue is a folder under var/jobs (config/settings/base.py): a job
queued while the worker is down waits there and runs when `make run` starts again.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from curation.apps import PHI_WARM_ENV

ROOT = Path(__file__).resolve().parent.parent
# Two threads: an import and a release can run at once, and SQLite has one writer anyway.
WORKER_CONCURRENCY = 2
# A warm stop lets running jobs finish; past this the worker is killed and its job must be retried.
STOP_GRACE_SECONDS = 120


def worker_command(*, concurrency: int = WORKER_CONCURRENCY, loglevel: str = "INFO") -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=threads",
        f"--concurrency={concurrency}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        f"--loglevel={loglevel}",
    ]


def server_command(address: str, *, reload: bool = True) -> list[str]:
    return [sys.executable, "manage.py", "runserver", address, *([] if reload else ["--noreload"])]


def _stop(process: subprocess.Popen, grace: float) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # Celery: warm shutdown, running jobs finish first
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        print(f"{process.args[2:4]} did not stop within {grace:.0f} s; killing it", file=sys.stderr)
        process.kill()
        process.wait()


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt  # a SIGTERM stops both processes the way Ctrl-C does


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m config.embedded", description=__doc__.splitlines()[0])
    parser.add_argument("address", nargs="?", default="127.0.0.1:8000", help="host:port for the web server")
    parser.add_argument("--noreload", action="store_true", help="do not restart the web server when code changes")
    options = parser.parse_args(argv)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.local")}
    worker = subprocess.Popen(worker_command(), cwd=ROOT, env=env)
    server_env = {**env, PHI_WARM_ENV: "1"}  # the web server loads the PHI scanner at start, not at the first save
    server = subprocess.Popen(server_command(options.address, reload=not options.noreload), cwd=ROOT, env=server_env)
    signal.signal(signal.SIGTERM, _interrupt)
    code = 0
    try:
        while (code := server.poll()) is None and worker.poll() is None:
            time.sleep(0.5)
        if worker.poll() is not None:
            print(
                f"The background worker stopped (exit {worker.returncode}); stopping the web server.", file=sys.stderr
            )
            code = worker.returncode or 1
    except KeyboardInterrupt:
        print("Stopping: running jobs finish first; queued jobs wait in var/jobs for the next start.", file=sys.stderr)
    finally:
        _stop(server, grace=10)
        _stop(worker, grace=STOP_GRACE_SECONDS)
    return code or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
