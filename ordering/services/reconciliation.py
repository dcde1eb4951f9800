"""Heal read-model orders whose last events never reached the projector.

The projector applies every event the stream delivers; a batch that exhausts its retries goes to
the stream's on-failure queue, and if it held an order's last event, nothing else would move that
order's row on until the order changed again. Reconciliation runs on a schedule, in two parts:

1. The sweep: every order whose row is not in a final state (UNFINISHED: PENDING, PAID,
   REFUND_PENDING, PAYMENT_FAILED) and was not updated in the last `settle` (the stream is still
   working on those), a page at a time by order id. A lost final event (OrderFulfilled,
   OrderCancelled) always leaves the row unfinished, so the sweep finds it at any order rate. A
   run that runs out of its time `budget` notes where it stopped; the next run goes on from there.
2. The window: the orders the read model saw updated in the last hours, at most `limit`, newest
   first. It catches a lost event after the final one (a ConfirmationSent, a late refund), which
   the sweep cannot tell from a finished order; above `limit` orders per window it checks only
   the newest (`window_full`).

For each part it asks the log which orders have an event after the version the read model holds
(one key lookup per order, batched), and projects those through the projector's own code
(ordering/services/projection.py), which heals the gap from the log and is idempotent by version:
an order the projector reaches at the same time is applied once. Orders already parked are left
to the redrive; an order that fails here is parked like one the projector could not apply, and
the rest go on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ordering.ports.event_store import EventStore
from ordering.ports.read_model import ParkedEvent, ReadModel, ReadModelUnavailable, printable_error
from ordering.services.projection import project


@dataclass
class Reconciliation:
    checked: int = 0  # orders of the window compared with the log
    unfinished_checked: int = 0  # unfinished orders the sweep compared with the log
    sweep_done: bool = False  # the sweep reached the last unfinished order in this run
    healed: list[str] = field(default_factory=list)  # streams brought up to the log
    parked: list[str] = field(default_factory=list)  # streams that failed and were parked
    left_parked: list[str] = field(default_factory=list)  # already parked: the redrive's to fix
    window_full: bool = False  # the window held more orders than `limit`: the oldest were not checked

    def summary(self) -> dict[str, object]:
        return {
            "checked": self.checked,
            "unfinished_checked": self.unfinished_checked,
            "sweep_done": self.sweep_done,
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
    page_size: int = 1000,
    settle: timedelta = timedelta(minutes=1),
    budget: timedelta = timedelta(minutes=2),
    timer: Callable[[], float] = time.monotonic,
) -> Reconciliation:
    """Bring every unfinished order (as far as `budget` allows, then the next run goes on), then
    every order updated within `window` (at most `limit`, newest first), up to the log."""
    parked = {event.stream for event in read_model.parked()}
    report = Reconciliation()
    started = timer()
    after = read_model.sweep_position()
    while True:
        page = read_model.unfinished_orders(clock() - settle, page_size, after)
        report.unfinished_checked += len(page.versions)
        _heal(read_model, store, page.versions, parked, report)
        after = page.next
        if after is None:
            report.sweep_done = True
            break
        if timer() - started >= budget.total_seconds():
            break  # the rest is the next run's: it starts after `after`
    read_model.save_sweep_position(after)

    versions = read_model.order_versions(clock() - window, limit)
    report.checked, report.window_full = len(versions), len(versions) >= limit
    _heal(read_model, store, versions, parked, report)
    return report


def _heal(
    read_model: ReadModel,
    store: EventStore,
    versions: dict[str, int],
    parked: set[str],
    report: Reconciliation,
) -> None:
    """Project again the orders of `versions` the log holds later events of (not the parked)."""
    left = sorted(parked & versions.keys())
    report.left_parked += [s for s in left if s not in report.left_parked and s not in report.parked]
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
            parked.add(stream)
            continue
        report.healed.append(stream)
