"""The local runtime's own log: one JSON object per line on stdout, like a Lambda's logs.

Every line names its source ("gateway", "pump", a function's name...) and, when there is
one, the correlation id, so that `grep <correlation id>` follows one request through the
gateway, the functions it caused and the e-mail at the end.
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import UTC, datetime
from typing import Any, TextIO

_lock = threading.Lock()
_stream: TextIO = sys.stdout
_quiet = False


def configure(stream: TextIO | None = None, *, quiet: bool = False) -> None:
    """Where the lines go (stdout by default); `quiet` keeps only warnings and errors."""
    global _stream, _quiet
    _stream = stream or sys.stdout
    _quiet = quiet


def log(source: str, message: str, *, level: str = "INFO", **fields: Any) -> None:
    if _quiet and level == "INFO":
        return
    line = {
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "level": level,
        "source": source,
        "message": message,
        **{name: value for name, value in fields.items() if value is not None},
    }
    write_line(json.dumps(line, default=str))


def forward(source: str, line: str) -> None:
    """A line a function wrote: kept as it is if it is JSON (Powertools' logs), wrapped otherwise."""
    text = line.rstrip("\n")
    if not text:
        return
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        if _quiet and str(parsed.get("level", "")).upper() in ("INFO", "DEBUG"):
            return
        parsed.setdefault("source", source)
        write_line(json.dumps(parsed, default=str))
    else:
        log(source, text)


def write_line(text: str) -> None:
    with _lock:
        try:
            _stream.write(text + "\n")
            _stream.flush()
        except (ValueError, OSError):  # the stream was closed while shutting down
            pass
