"""`orders dev` heals a read model that missed an order's last events: the projector never gets
the OrderFulfilled and ConfirmationSent records (as if their batch had been parked on the
on-failure queue and never redriven), so only the scheduled reconciliation, which the local
runtime fires as EventBridge would, can bring the order to FULFILLED in the read model.

The runtime runs in this process with the real functions (the projector behind a filter that
loses those records), its own Postgres, and a schedule every SCHEDULE_EVERY seconds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from infra import topology
from infra.dev.client import DevClient
from infra.dev.runtime import LocalRuntime, Options
from tests.e2e.conftest import embedded_postgres, eventually, runtime_on
from tests.e2e.shop import Shop, new_sku, order_events

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.moto,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.xdist_group("e2e"),
]

LOST = ("OrderFulfilled", "ConfirmationSent")
SCHEDULE_EVERY = 2.0  # seconds (`orders dev --schedule-every 2`); on AWS, the topology's 5 minutes


def losing_last_events() -> tuple[topology.Function, ...]:
    return tuple(
        replace(
            f,
            handler="tests.e2e.lossy_projector.handler",
            environment={**f.environment, "LOSE_TYPES": ",".join(LOST)},
        )
        if f.name == "projector"
        else f
        for f in topology.FUNCTIONS
    )


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    options = Options(
        port=0,
        state_file=tmp_path_factory.mktemp("reconcile") / "dev.json",
        schedule_every=SCHEDULE_EVERY,
    )
    with (
        embedded_postgres("reconcile") as postgres,
        runtime_on(postgres, options, losing_last_events()) as local,
    ):
        yield local


def healed_by_runs(shop: Shop) -> int:
    """How many orders the reconciliation runs so far say they healed (from their log lines)."""
    healed = 0
    for invocation in shop.dev.invocations(function="reconcile"):
        for line in invocation["logs"]:
            entry = json.loads(line) if line.startswith("{") else {}
            if entry.get("message") == "reconciled":
                healed += entry["healed"]
    return healed


def projected_version(shop: Shop, order_id: str) -> int | None:
    rows = shop.read_model("SELECT version FROM read_model.orders WHERE order_id = %s", order_id)
    return rows[0][0] if rows else None


def test_an_order_whose_last_events_never_reached_the_projector_is_healed_by_the_schedule(
    runtime: LocalRuntime,
) -> None:
    assert runtime.state is not None
    shop = Shop(DevClient(runtime.state))
    assert shop.dev.status()["schedules"]["reconcile-read-model"]["every_seconds"] == SCHEDULE_EVERY
    sku = new_sku()
    shop.restock(sku, 5, "4.00")
    ada = shop.customer("ada")
    order_id = shop.place(ada, {sku: 2}).json()["order_id"]

    eventually(lambda: set(LOST) <= set(order_events(shop, order_id)), timeout=60, interval=0.1)
    in_log = time.monotonic()
    log = order_events(shop, order_id)
    assert set(log[-2:]) == set(LOST)  # the order's last two events are the lost ones

    # A run may heal the order to OrderFulfilled before ConfirmationSent is in the log; a
    # later run brings in the rest. Healed means every event, ConfirmationSent included.
    eventually(lambda: projected_version(shop, order_id) == len(log), timeout=60, interval=0.1)
    visible_for = time.monotonic() - in_log

    healed = shop.wait_for_status(ada, order_id, timeout=5)
    assert healed["status"] == "FULFILLED"
    assert healed_by_runs(shop) >= 1  # the projector never saw those records: only a run heals
    assert shop.stock_in_read_model(sku) == shop.head(sku) == {"available": 3, "reserved": 0, "committed": 2}
    runs = shop.dev.invocations(function="reconcile")
    assert runs
    assert all(run["ok"] for run in runs)
    slowest = max(run["duration_ms"] for run in runs)
    print(
        f"lost last event visible for {visible_for:.1f} s (schedule every {SCHEDULE_EVERY} s; "
        f"slowest of {len(runs)} runs {slowest:.0f} ms)"
    )


def test_orders_dev_fires_the_schedule_at_the_topologys_rate_by_default(shop: Shop) -> None:
    """The session's `orders dev` (a subprocess, no --schedule-every): 5 minutes, as on AWS."""
    schedules = shop.dev.status()["schedules"]
    assert schedules == {
        s.name: {"every_seconds": s.rate_minutes * 60, "runs": schedules[s.name]["runs"]}
        for s in topology.SCHEDULES
    }
