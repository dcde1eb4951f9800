"""The embedded PostgreSQL's watchdog: stops the server and deletes its scratch directory once
`orders dev` has gone, however it went (Ctrl-C, an exception, SIGKILL).

pg_ctl starts the server detached, so it outlives a killed parent. This small process is
started beside it in a session of its own (a Ctrl-C of the terminal does not reach it) with a
pipe from the parent on its stdin: the pipe ends when the parent closes it or dies, and then
the watchdog sends the server an immediate shutdown (SIGQUIT; SIGKILL if it lingers) and
removes the directory. It is run as a script, with the standard library only, so that nothing
of the project has to import for it to do its job.

    python watchdog.py PGDATA SCRATCH   (stdin: the pipe from `orders dev`)
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from pathlib import Path

LINGER_SECONDS = 5


def postmaster_pid(pgdata: Path) -> int | None:
    """The server's pid from postmaster.pid, if the file is there and names a postgres process."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return None
    return pid if b"postgres" in command else None


def alive(pid: int) -> bool:
    """Does process `pid` exist (one of another user counts)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap(pgdata: Path, scratch: Path) -> None:
    pid = postmaster_pid(pgdata)
    if pid is not None:
        os.kill(pid, signal.SIGQUIT)  # PostgreSQL's immediate shutdown: the data is thrown away next
        deadline = time.monotonic() + LINGER_SECONDS
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(scratch, ignore_errors=True)


def main(arguments: list[str]) -> int:
    pgdata, scratch = Path(arguments[0]), Path(arguments[1])
    for sig in (signal.SIGINT, signal.SIGHUP):  # the terminal's; SIGTERM still ends it
        signal.signal(sig, signal.SIG_IGN)
    while sys.stdin.buffer.read(4096):  # returns b"" once the parent has closed the pipe or died
        pass
    reap(pgdata, scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
