"""Heal read-model orders whose last events never reached the projector.

The projector applies every event the stream delivers; a batch that exhausts its retries goes to
the stream's on-failure queue, and if it held an order's last event, nothing else would move that
order's row on until the order changed again. Reconciliation runs on a schedule: it takes the
orders the read model saw updated in the last hours (a bounded, indexed read), asks the log which
of them have an event after the version the read model holds (one key lookup per order, batched),
and projects those through the projector's own code (ordering/services/projection.py), which
heals the gap from the log and is idempotent by version: an order the projector reaches at the
same time is applied once. Orders already parked are left to the redrive; an order that fails
here is parked like one the projector could not apply, and the rest go on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ordering.ports.event_store import EventStore
from ordering.ports.read_model import ParkedEvent, ReadModel, ReadModelUnavailable, printable_error
from ordering.services.projection import project


@dataclass
class Reconciliation:
    checked: int = 0  # orders of the window compared with the log
    healed: list[str] = field(default_factory=list)  # streams brought up to the log
    parked: list[str] = field(default_factory=list)  # streams that failed and were parked
    left_parked: list[str] = field(default_factory=list)  # already parked: the redrive's to fix
    window_full: bool = False  # the window held more orders than `limit`: the oldest were not checked

    def summary(self) -> dict[str, object]:
        return {
            "checked": self.checked,
            "healed": len(self.healed),
            "parked": len(self.parked),
            "left_parked": len(self.left_parked),
            "window_full": self.window_full,
        }


def reconcile(
    read_model: ReadModel,
    store: EventStore,
    *,
    window: timedelta,
    limit: int,
    clock: Callable[[], datetime],
) -> Reconciliation:
    """Bring every order updated within `window` (at most `limit`, newest first) up to the log."""
    versions = read_model.order_versions(clock() - window, limit)
    parked = {event.stream for event in read_model.parked()}
    report = Reconciliation(checked=len(versions), window_full=len(versions) >= limit)
    report.left_parked = sorted(parked & versions.keys())
    behind = store.streams_beyond({s: v for s, v in versions.items() if s not in parked})
    for stream in sorted(behind):
        last = 0
        try:
            events = store.read(stream, versions[stream] + 1)
            last = events[-1].version
            project(read_model, store.read, events[-1])
        except ReadModelUnavailable:
            raise  # nothing can be healed now; the run fails and the next one starts over
        except Exception as error:
            read_model.park(
                ParkedEvent(stream, last, None, printable_error(f"{type(error).__name__}: {error}"))
            )
            report.parked.append(stream)
            continue
        report.healed.append(stream)
    return report
