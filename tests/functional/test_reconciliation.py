"""handlers/reconcile.py through the production wiring, on the in-memory log and read model:
an order whose last events never reached the projector is healed; the rest is left alone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
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


def settled_order(store) -> str:
    """An order placed, paid and fulfilled: three events in its stream."""
    order_id = str(uuid.uuid4())
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

    assert run() == {"checked": 2, "healed": 1, "parked": 0, "left_parked": 0, "window_full": False}
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

    assert (report["checked"], report["healed"]) == (0, 0)
    assert read_model.get(stream).version == 2
