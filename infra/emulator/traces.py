"""X-Ray trace headers per invocation, as Lambda sets `_X_AMZN_TRACE_ID`.

On AWS each invocation gets a trace header: a new trace (API Gateway starts one per request,
the stream mapping one per batch), or, for an SQS batch whose first message carries an
`AWSTraceHeader`, or an EventBridge event put with a `TraceHeader` (the publisher sets both
from its own invocation's header), that trace continued with a new parent segment. moto
drops an event's `TraceHeader`, so moto_events.py hands it to `remember_event_trace`, in moto's
process; `orders dev` looks up what it does not hold through `look_up_event_traces`. The
local runtime does the same and records each invocation's trace id, so the invocations of
one trace can be listed together (`GET /local/invocations?trace_id=`, the console); no
segments or timings are collected.
"""

from __future__ import annotations

import collections
import threading
import uuid
from collections.abc import Callable
from typing import Any

_EVENT_TRACES: collections.OrderedDict[str, str] = collections.OrderedDict()  # event id -> header
_REMEMBERED = 10_000  # the newest events' headers: a target delivers an event within seconds
_lock = threading.Lock()
_look_up: Callable[[str], str | None] | None = None  # where a header not remembered here is asked for


def remember_event_trace(event_id: str, header: str) -> None:
    with _lock:
        _EVENT_TRACES[event_id] = header
        while len(_EVENT_TRACES) > _REMEMBERED:
            _EVENT_TRACES.popitem(last=False)


def remembered_event_trace(event_id: str) -> str | None:
    with _lock:
        return _EVENT_TRACES.get(event_id)


def look_up_event_traces(look_up: Callable[[str], str | None] | None) -> None:
    """Ask `look_up` for an event's header this process did not remember (None: ask no one)."""
    global _look_up
    _look_up = look_up


def _event_trace(event: dict[str, Any]) -> str | None:
    if "detail-type" not in event or not isinstance(event.get("id"), str):
        return None
    header = remembered_event_trace(event["id"])
    look_up = _look_up
    return header if header is not None or look_up is None else look_up(event["id"])


def new_header() -> str:
    trace = uuid.uuid4().hex
    return f"Root=1-{trace[:8]}-{trace[8:]};Parent={uuid.uuid4().hex[:16]};Sampled=1"


def root_of(header: str | None) -> str | None:
    """The trace id (`Root=`) of a header, or None."""
    for part in (header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "Root" and value:
            return value
    return None


def continued(header: str) -> str:
    """The same trace, with a new parent: the segment of the invocation that continues it."""
    return f"Root={root_of(header)};Parent={uuid.uuid4().hex[:16]};Sampled=1"


def invocation_header(event: Any) -> str:
    """The header an invocation of `event` runs with: an SQS batch's first message's trace or an
    EventBridge event's, continued, or a new trace."""
    records = event.get("Records") if isinstance(event, dict) else None
    first = records[0] if isinstance(records, list) and records and isinstance(records[0], dict) else {}
    attributes = first.get("attributes") if first.get("eventSource") == "aws:sqs" else None
    incoming = attributes.get("AWSTraceHeader") if isinstance(attributes, dict) else None
    if incoming is None and isinstance(event, dict):
        incoming = _event_trace(event)
    return continued(incoming) if isinstance(incoming, str) and root_of(incoming) else new_header()
