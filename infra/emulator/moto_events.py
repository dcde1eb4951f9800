"""Two patches of moto's EventBridge.

moto's PutEvents drops each entry's TraceHeader, so a rule's target could not continue the
putter's trace, as it does on AWS. `keep_event_trace_headers` hands each accepted event's
header to traces.remember_event_trace, under the event id the target receives.

For each target of each rule an event matches, moto builds the event the target receives
from eight JSONPath expressions (its default input paths), and parses each one anew: a
parser built by ply for every expression, about 1.5 ms each, twelve per delivery.
`parse_paths_once` keeps each parsed expression (they are not changed by a search).
"""

from __future__ import annotations

import functools
from typing import Any

import jsonpath_ng.ext
from moto.events.models import EventsBackend

from infra.emulator.traces import remember_event_trace


def keep_event_trace_headers() -> None:
    """Idempotent: wraps moto's put_events once."""
    original = EventsBackend.put_events
    if getattr(original, "_keeps_trace_headers", False):
        return

    @functools.wraps(original)
    def put_events(self: EventsBackend, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        entries = original(self, events)
        for event, entry in zip(events, entries, strict=False):  # one entry per event, in order
            if event.get("TraceHeader") and entry.get("EventId"):
                remember_event_trace(entry["EventId"], event["TraceHeader"])
        return entries

    put_events._keeps_trace_headers = True  # type: ignore[attr-defined]
    EventsBackend.put_events = put_events  # type: ignore[method-assign]


PARSED_PATHS = 1024  # expressions kept: the rules' input paths are a handful


def parse_paths_once() -> None:
    """Idempotent: moto's EventBridge imports `jsonpath_ng.ext.parse` at each call; this keeps
    what it returns per expression. In moto's process only (moto_main.py)."""
    if hasattr(jsonpath_ng.ext.parse, "cache_info"):
        return
    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=PARSED_PATHS)(jsonpath_ng.ext.parse)  # type: ignore[assignment]
