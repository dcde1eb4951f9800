"""The projection service (version guard, gap healing) on every read model adapter."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from generated import models as m
from ordering.adapters.memory_event_store import InMemoryEventStore
from ordering.domain.streams import order_stream
from ordering.services.projection import GapNotHealed, Outcome, fold_stream, project
from tests.support.builders import new_event, new_id
from tests.support.read_models import READ_MODELS, read_model_backend


@pytest.fixture(params=READ_MODELS)
def read_model(request):
    with read_model_backend(request.param) as backend:
        yield backend.read_model


def an_order_stream(store, *, settled: bool = True):
    """An order's events in the log: placed, paid, fulfilled, e-mailed."""
    order_id, user_id = new_id(), new_id()
    placed = m.OrderPlaced(
        order_id=order_id,
        user_id=user_id,
        email="ada@example.com",
        lines=[m.PricedLine(sku="MUG-01", quantity=2, unit_price="7.50", line_total="15.00")],
        total="15.00",
        currency="EUR",
    )
    events = [
        placed,
        m.PaymentSucceeded(order_id=order_id, amount="15.00", currency="EUR", payment_reference="fake_1"),
        m.OrderFulfilled(order_id=order_id),
        m.ConfirmationSent(
            order_id=order_id,
            kind=m.EmailKind.order_confirmation,
            recipient="ada@example.com",
            message_id="x-1",
        ),
    ]
    return store.append(order_stream(order_id), 0, [new_event(e) for e in events[: 4 if settled else 1]])


def test_events_in_order_are_applied_and_repeats_skipped(read_model):
    store = InMemoryEventStore()
    log = an_order_stream(store)
    assert [project(read_model, store.read, e) for e in log] == [Outcome.APPLIED] * 4
    assert [project(read_model, store.read, e) for e in log] == [Outcome.SKIPPED] * 4
    assert read_model.get(log[0].stream) == fold_stream(log[0].stream, log)


def test_a_gap_is_healed_from_the_log(read_model):
    store = InMemoryEventStore()
    v1, v2, v3, v4 = an_order_stream(store)
    assert project(read_model, store.read, v1) is Outcome.APPLIED
    assert project(read_model, store.read, v3) is Outcome.HEALED  # v2 read from the log first
    assert read_model.get(v1.stream) == fold_stream(v1.stream, [v1, v2, v3])
    assert project(read_model, store.read, v2) is Outcome.SKIPPED
    assert project(read_model, store.read, v4) is Outcome.APPLIED
    assert read_model.get(v1.stream) == fold_stream(v1.stream, [v1, v2, v3, v4])


def test_a_first_event_that_is_not_the_first_heals_from_version_one(read_model):
    store = InMemoryEventStore()
    log = an_order_stream(store)
    assert project(read_model, store.read, log[3]) is Outcome.HEALED
    assert read_model.get(log[0].stream).version == 4


def test_a_gap_the_log_cannot_heal_writes_nothing(read_model):
    store, elsewhere = InMemoryEventStore(), InMemoryEventStore()
    log = an_order_stream(elsewhere)
    store.append(log[0].stream, 0, [new_event(log[0].data)])  # our log holds v1 only
    project(read_model, store.read, store.read(log[0].stream)[0])
    with pytest.raises(GapNotHealed, match=r"v2\.\.v3"):
        project(read_model, store.read, log[2])
    assert read_model.get(log[0].stream).version == 1


def test_an_event_the_log_holds_differently_is_not_applied(read_model):
    store = InMemoryEventStore()
    log = an_order_stream(store)
    project(read_model, store.read, log[0])
    impostor = replace(log[2], event_id=new_id())
    with pytest.raises(GapNotHealed):
        project(read_model, store.read, impostor)
    assert read_model.get(log[0].stream).version == 1


@pytest.mark.parametrize("seed", range(5))
def test_any_delivery_order_with_repeats_converges(read_model, seed):
    rng = random.Random(seed)
    store = InMemoryEventStore()
    logs = [an_order_stream(store) for _ in range(3)]
    deliveries = [e for log in logs for e in log for _ in range(rng.randint(1, 3))]
    rng.shuffle(deliveries)
    for event in deliveries:
        project(read_model, store.read, event)
    for log in logs:
        assert read_model.get(log[0].stream) == fold_stream(log[0].stream, log)
