"""moto's PutEvents drops each entry's TraceHeader, so a rule's target could not continue the
putter's trace, as it does on AWS. `keep_event_trace_headers` hands each accepted event's
header to traces.remember_event_trace, under the event id the target receives."""

from __future__ import annotations

import functools
from typing import Any

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
