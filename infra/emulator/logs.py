"""The local runtime's own log: one line per event, like a Lambda's logs, as JSON or for people.

Every line names its source ("gateway", "pump", a function's name...) and, when there is
one, the correlation id, so that `grep <correlation id>` follows one request through the
gateway, the functions it caused and the e-mail at the end.

Two formats: "json" (one object per line, for `jq`, pipes and CI) and "pretty" (time,
source, level, correlation id and message on one line, each source in its own colour).
"""

from __future__ import annotations

import json
import sys
import threading
import zlib
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

Format = Literal["json", "pretty"]

_lock = threading.Lock()
_stream: TextIO = sys.stdout
_quiet = False
_format: Format = "json"

# Fields every line has, shown in their own columns of the pretty format (not repeated after it).
_HEADLINE = {"timestamp", "time", "level", "source", "message", "correlation_id", "service", "location"}
_COLOURS = (31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96)  # ANSI foregrounds
_LEVEL_COLOURS = {"WARNING": 33, "ERROR": 31, "CRITICAL": 31}


def configure(stream: TextIO | None = None, *, quiet: bool = False, format: Format = "json") -> None:
    """Where the lines go (stdout by default), in which format; `quiet` keeps only warnings and errors."""
    global _stream, _quiet, _format
    _stream = stream or sys.stdout
    _quiet = quiet
    _format = format


def default_format(stream: TextIO, environment: dict[str, str]) -> Format:
    """Pretty on a terminal; JSON when piped or in CI, where a program reads the lines."""
    if environment.get("CI"):
        return "json"
    return "pretty" if stream.isatty() else "json"


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
    _emit(line)


def parse(line: str) -> dict[str, Any] | None:
    """The JSON object a function's log line is (Powertools' logs, EMF), or None for plain text."""
    try:
        parsed = json.loads(line)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def forward(source: str, line: str) -> None:
    """A line a function wrote: kept as it is if it is JSON (Powertools' logs), wrapped otherwise."""
    text = line.rstrip("\n")
    if text:
        forward_parsed(source, text, parse(text))


def forward_parsed(source: str, text: str, parsed: dict[str, Any] | None) -> None:
    """forward() of a line already parsed (each line is parsed once, for its invocation's metrics
    and correlation ids too). `parsed` is left as it is: the invocation keeps it."""
    if parsed is None:
        log(source, text)
        return
    if _quiet and str(parsed.get("level", "")).upper() in ("INFO", "DEBUG"):
        return
    _emit(parsed if "source" in parsed else {**parsed, "source": source})


def pretty(line: dict[str, Any], *, colour: bool = True) -> str:
    """`10:00:02.123 payment      INFO  [checkout-1] charged  order_id=...`: one event, one line."""
    moment = str(line.get("timestamp") or line.get("time") or "")
    clock = moment[11:23] if len(moment) >= 23 and moment[10] in "T " else moment
    source = str(line.get("source", ""))
    level = str(line.get("level", "INFO")).upper()
    correlation = f"[{line['correlation_id']}] " if line.get("correlation_id") else ""
    message = line.get("message", "")
    if not isinstance(message, str):
        message = json.dumps(message, default=str)
    extra = " ".join(
        f"{name}={value if isinstance(value, str) else json.dumps(value, default=str)}"
        for name, value in line.items()
        if name not in _HEADLINE
    )
    source_text, level_text = f"{source:<12}", f"{level:<7}"
    if colour:
        source_text = _paint(source_text, _COLOURS[zlib.crc32(source.encode()) % len(_COLOURS)])
        if level in _LEVEL_COLOURS:
            level_text = _paint(level_text, _LEVEL_COLOURS[level])
    return f"{clock} {source_text} {level_text} {correlation}{message}" + (f"  {extra}" if extra else "")


def _paint(text: str, code: int) -> str:
    return f"\x1b[{code}m{text}\x1b[0m"


def _emit(line: dict[str, Any]) -> None:
    if _format == "pretty":
        write_line(pretty(line, colour=_stream.isatty()))
    else:
        write_line(json.dumps(line, default=str))


def write_line(text: str) -> None:
    with _lock:
        try:
            _stream.write(text + "\n")
            _stream.flush()
        except (ValueError, OSError):  # the stream was closed while shutting down
            pass
