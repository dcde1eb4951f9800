"""PostgreSQL for a laptop: an embedded server (pgserver) unless DATABASE_URL names one.

pgserver ships PostgreSQL binaries in a wheel and runs them on a Unix socket in a data
directory of our choosing, so neither Docker nor a system PostgreSQL is needed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def postgres_url() -> Iterator[str]:
    """Yield a connection URL: DATABASE_URL if set, else an embedded server for the duration.

    The embedded server's data lives in a temporary directory, removed afterwards: the read
    model is rebuilt from the event log (replay), never kept.
    """
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield configured
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pgserver

        with tempfile.TemporaryDirectory(prefix="orders-pg-") as scratch:
            server = pgserver.get_server(Path(scratch) / "pgdata", cleanup_mode="stop")
            try:
                yield server.get_uri()
            finally:
                server.cleanup()
