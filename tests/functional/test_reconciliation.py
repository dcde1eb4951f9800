"""handlers/reconcile.py through the production wiring, on the in-memory log and read model:
an order whose last events never reached the projector is healed; the rest is left alone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from handlers import reconcile
from ordering import bootstrap
from ordering.adapters.fake_payment_gateway import FakePaymentGateway
from ordering.adapters.memory_event_store import InMemoryEventStore
from ordering.adapters.memory_read_model import InMemoryReadModel
from ordering.domain.placement import PlaceOrder, RequestedLine
from ordering.domain.recorded import NewEvent
from ordering.domain.streams import order_stream
from ordering.ports.read_model import ParkedEvent
from ordering.services.payments import record_payment
from ordering.services.place_order import place_order
from ordering.services.projection import fold_stream, project
from ordering.services.reconciliation import reconcile as reconcile_now
from ordering.services.restock import restock
from ordering.services.settlement import settle_order
from ordering.services.stamp import Cause
from tests.functional.invoke import Context

USER = "5f0c7a9e-2b3d-4c1e-8f6a-9d0b1c2e3f4a"


@pytest.fixture
def world():
    store, read_model = InMemoryEventStore(), InMemoryReadModel()
    bootstrap.reset()
    bootstrap.override(event_store=store, read_model=read_model)
    restock(store, "MUG-01", 100, Decimal("7.50"), "EUR", Cause("seed"))
    yield store, read_model
    bootstrap.reset()


def settled_order(store, order_id: str | None = None) -> str:
    """An order placed, paid and fulfilled: three events in its stream."""
    order_id = order_id or str(uuid.uuid4())
    place_order(
        store, PlaceOrder(order_id, USER, "ada@example.com", (RequestedLine("MUG-01", 1),)), Cause("c")
    )
    record_payment(store, FakePaymentGateway(), order_id, Cause("c"))
    settle_order(store, order_id, True, Cause("c"))
    return order_stream(order_id)


def project_up_to(store, read_model, stream: str, version: int) -> None:
    """What the projector saw of the stream: its events up to `version`, the rest lost."""
    for event in store.read(stream)[:version]:
        project(read_model, store.read, event)


def run() -> dict:
    return reconcile.handler({}, Context(function_name="reconcile"))


def test_an_order_whose_last_event_was_never_projected_is_healed(world):
    store, read_model = world
    stream = settled_order(store)
    project_up_to(store, read_model, stream, 2)  # OrderFulfilled parked on the on-failure queue
    assert read_model.get(stream).status.value == "PAID"

    report = run()

    assert report["healed"] == 1
    assert read_model.get(stream) == fold_stream(stream, store.read(stream))
    assert read_model.get(stream).status.value == "FULFILLED"


def test_an_up_to_date_order_is_untouched_and_a_second_run_heals_nothing(world):
    store, read_model = world
    current, behind = settled_order(store), settled_order(store)
    project_up_to(store, read_model, current, 3)
    project_up_to(store, read_model, behind, 1)
    before = read_model.get(current)

    assert run() == {
        "checked": 2,
        "unfinished_checked": 0,  # both updated within the last minute: the stream's to finish
        "sweep_done": True,
        "healed": 1,
        "parked": 0,
        "left_parked": 0,
        "window_full": False,
    }
    assert read_model.get(current) is before  # not even rewritten
    assert run()["healed"] == 0  # idempotent: the healed order is now up to date


def test_a_poison_order_is_parked_and_does_not_stop_the_rest(world):
    store, read_model = world
    poison, parked, behind = settled_order(store), settled_order(store), settled_order(store)
    for stream in (poison, parked, behind):
        project_up_to(store, read_model, stream, 2)
    restocked = store.read("SKU#MUG-01")[0]  # an event no order can fold: the projection fails
    store.append(poison, 3, [NewEvent(restocked.data, str(uuid.uuid4()), datetime.now(UTC), "poison")])
    read_model.park(ParkedEvent(parked, 3, None, "the projector parked it"))

    report = run()

    assert (report["healed"], report["parked"], report["left_parked"]) == (1, 1, 1)
    assert read_model.get(behind).version == 3
    assert read_model.get(parked).version == 2  # the redrive's to fix, once its cause is
    assert {event.stream for event in read_model.parked()} == {poison, parked}
    assert "TypeError" in next(e.error for e in read_model.parked() if e.stream == poison)


def test_orders_outside_the_window_are_not_checked(world, monkeypatch):
    store, read_model = world
    stream = settled_order(store)
    project_up_to(store, read_model, stream, 2)
    monkeypatch.setenv("RECONCILE_WINDOW_MINUTES", "0")
    bootstrap.override(settings=bootstrap.Settings.from_env())

    report = run()

    assert (report["checked"], report["unfinished_checked"], report["healed"]) == (0, 0, 0)  # and settling
    assert read_model.get(stream).version == 2


def configure(monkeypatch, **settings: object) -> None:
    for name, value in settings.items():
        monkeypatch.setenv(name, str(value))
    bootstrap.override(settings=bootstrap.Settings.from_env())


def test_an_order_whose_final_event_was_lost_is_healed_even_when_the_window_is_full(world, monkeypatch):
    store, read_model = world
    lost = settled_order(store)
    project_up_to(store, read_model, lost, 2)  # OrderFulfilled lost: the row stays PAID
    for _ in range(3):  # newer orders, projected in full, fill the window
        newer = settled_order(store)
        project_up_to(store, read_model, newer, 3)
    configure(monkeypatch, RECONCILE_MAX_ORDERS=2, RECONCILE_SETTLE_SECONDS=0)

    report = run()

    assert (report["window_full"], report["unfinished_checked"], report["healed"]) == (True, 1, 1)
    assert read_model.get(lost).status.value == "FULFILLED"
    assert read_model.get(lost) == fold_stream(lost, store.read(lost))


def test_a_run_out_of_time_leaves_the_rest_of_the_unfinished_orders_to_the_next_run(world):
    store, read_model = world
    ids = [f"{n:08x}-0000-4000-8000-000000000000" for n in range(1, 6)]
    waiting = ids[0]  # the first by id: placed, projected in full, waiting for its payment
    place_order(
        store, PlaceOrder(waiting, USER, "ada@example.com", (RequestedLine("MUG-01", 1),)), Cause("c")
    )
    project_up_to(store, read_model, order_stream(waiting), 1)
    behind = [settled_order(store, order_id) for order_id in ids[1:]]
    for stream in behind:
        project_up_to(store, read_model, stream, 2)
    ticks = iter(range(1000))  # every reading of the timer is a second later

    def one_run():
        return reconcile_now(
            read_model,
            store,
            window=timedelta(0),
            limit=10,
            clock=lambda: datetime.now(UTC),
            page_size=1,
            settle=timedelta(0),
            budget=timedelta(seconds=2),
            timer=lambda: next(ticks),
        )

    runs = [one_run() for _ in range(3)]

    # Two pages a run (the first run's first is the waiting order); each goes on where the last stopped.
    assert [run.healed for run in runs] == [behind[:1], behind[1:3], behind[3:]]
    assert [run.sweep_done for run in runs] == [False, False, True]
    assert read_model.sweep_position() is None  # the sweep finished: the next one starts over
    assert all(read_model.get(stream).status.value == "FULFILLED" for stream in behind)
    assert read_model.get(order_stream(waiting)).status.value == "PENDING"
    assert one_run().unfinished_checked == 1  # only the waiting order is left unfinished
