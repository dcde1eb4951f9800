"""`orders dev` as a child process, as a user runs it: started on free ports, ready once its
state file names a live process, stopped with Ctrl-C. The benchmarks and the end-to-end tests
drive the local runtime this way."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from infra.dev import state as dev_state
from infra.dev.client import DevClient

ROOT = Path(__file__).resolve().parents[2]
ORDERS_MODULE = (sys.executable, "-m", "cli.main")  # the `orders` console script, without needing it on PATH


class NotReady(RuntimeError):
    """`orders dev` exited, or was not ready in time; the message ends with its log's last lines."""


@dataclass
class DevProcess:
    process: subprocess.Popen
    state_file: Path
    log: Path
    client: DevClient

    def log_tail(self, lines: int = 60) -> str:
        return tail(self.log, lines)


def tail(log: Path, lines: int = 60) -> str:
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def start(
    state_file: Path,
    log: Path,
    *arguments: str,
    environment: dict[str, str] | None = None,
    orders: tuple[str, ...] = ORDERS_MODULE,
    timeout: float = 180,
) -> DevProcess:
    """`orders dev --port 0 --state-file STATE_FILE ARGUMENTS...`, its output in `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [*orders, "dev", "--port", "0", "--state-file", str(state_file), *arguments]
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter or console script
            command, stdout=out, stderr=subprocess.STDOUT, env=environment, cwd=ROOT
        )
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise NotReady(f"orders dev exited with {process.returncode}:\n{tail(log)}")
        try:
            return DevProcess(process, state_file, log, DevClient(dev_state.read(state_file)))
        except dev_state.NotRunning:
            if time.monotonic() > deadline:
                interrupt(process)
                raise NotReady(f"orders dev was not ready in {timeout} s:\n{tail(log)}") from None
            time.sleep(0.2)


def stop(dev: DevProcess) -> int:
    """Ctrl-C, as a user stops it; the exit status."""
    return interrupt(dev.process)


def interrupt(process: subprocess.Popen) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode
