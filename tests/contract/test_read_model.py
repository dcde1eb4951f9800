"""One contract for every ReadModel adapter: in memory, and Postgres."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from generated import models as m
from ordering.domain.inventory import InventoryItem
from ordering.domain.order import Order, OrderLine, Status
from ordering.domain.streams import split_stream
from ordering.domain.user import User
from ordering.ports.read_model import UNFINISHED, stream_of
from tests.support.builders import at, new_id
from tests.support.read_models import READ_MODELS, read_model_backend


@pytest.fixture(params=READ_MODELS)
def backend(request):
    with read_model_backend(request.param) as backend:
        yield backend


@pytest.fixture
def read_model(backend):
    return backend.read_model


def an_order(user_id: str | None = None, *, seconds: float = 0, version: int = 1, **changes) -> Order:
    order = Order(
        id=new_id(),
        user_id=user_id or new_id(),
        email="ada@example.com",
        status=Status.PENDING,
        lines=(
            OrderLine("MUG-01", 2, Decimal("7.50"), Decimal("15.00")),
            OrderLine("TEA-EARL", 1, Decimal("4.20"), Decimal("4.20")),
        ),
        total=Decimal("19.20"),
        currency="EUR",
        created_at=at(seconds),
        updated_at=at(seconds),
        version=version,
    )
    return replace(order, **changes)


def save(read_model, state):
    with read_model.changing(stream_of(state)) as change:
        change.save(state)


def test_every_kind_of_aggregate_reads_back_equal(read_model):
    order = an_order(
        status=Status.CANCELLED,
        version=5,
        updated_at=at(3.25),
        client_reference="PO-7 'quoted'; --",
        failure_reason="card_declined",
        emails_sent=frozenset({m.EmailKind.payment_failed}),
    )
    paid = an_order(status=Status.PAID, version=2, payment_reference="fake_ref")
    refunding = an_order(status=Status.REFUND_PENDING, version=3, payment_reference="fake_ref")
    unpriced = InventoryItem("CUP-02", available=3, version=1)
    priced = InventoryItem("MUG-01", 7, 2, 1, Decimal("0.10"), "EUR", 6)
    user = User(new_id(), "bob@example.net", at(1.5), 1)
    for state in (order, paid, refunding, unpriced, priced, user):
        save(read_model, state)
    for state in (order, paid, refunding, unpriced, priced, user):
        assert read_model.get(stream_of(state)) == state
    assert read_model.get(f"ORDER#{new_id()}") is None
    assert read_model.get("SKU#NOPE-1") is None


def test_a_change_that_raises_writes_nothing(read_model):
    order = an_order()
    save(read_model, order)

    def fail_half_way() -> None:
        with read_model.changing(stream_of(order)) as change:
            assert change.current == order
            change.save(replace(order, status=Status.PAID, version=2))
            raise RuntimeError("the projection failed half way")

    with pytest.raises(RuntimeError):
        fail_half_way()
    assert read_model.get(stream_of(order)) == order


def test_a_write_never_moves_an_aggregate_back(read_model):
    item = InventoryItem("MUG-01", available=5, version=3)
    save(read_model, item)
    save(read_model, replace(item, available=9, version=2))
    save(read_model, replace(item, available=1, version=3))
    assert read_model.get("SKU#MUG-01") == item


def test_a_change_shows_the_current_state_and_saves_the_next(read_model):
    user = User(new_id(), "ada@example.com", at(), 1)
    with read_model.changing(stream_of(user)) as change:
        assert change.current is None
        change.save(user)
    with read_model.changing(stream_of(user)) as change:
        assert change.current == user


def test_a_change_cannot_save_another_aggregate(read_model):
    order, other = an_order(), an_order()
    with pytest.raises(ValueError, match="cannot save"), read_model.changing(stream_of(order)) as change:
        change.save(other)
    assert read_model.get(stream_of(other)) is None


def test_changes_of_one_aggregate_take_turns(read_model):
    item = InventoryItem("MUG-01", available=5, version=1)
    save(read_model, item)
    first_inside, release = threading.Event(), threading.Event()
    seen_by_second: list[InventoryItem | None] = []

    def first() -> None:
        with read_model.changing("SKU#MUG-01") as change:
            first_inside.set()
            release.wait(10)
            change.save(replace(change.current, available=6, version=2))

    def second() -> None:
        first_inside.wait(10)
        with read_model.changing("SKU#MUG-01") as change:
            seen_by_second.append(change.current)
            change.save(replace(change.current, available=change.current.available + 1, version=3))

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_inside.wait(10)
    threads[1].join(0.3)  # the second is still waiting for the first...
    assert seen_by_second == []
    release.set()
    for thread in threads:
        thread.join(10)
    assert seen_by_second[0].version == 2  # ...and then saw what the first wrote
    assert read_model.get("SKU#MUG-01").available == 7


def test_orders_of_a_user_come_newest_first_a_page_at_a_time(read_model):
    ada, bob = new_id(), new_id()
    mine = [an_order(ada, seconds=n) for n in range(7)]
    # Two orders at the very same moment: the order id breaks the tie, so none is lost.
    mine += [an_order(ada, seconds=3) for _ in range(2)]
    for order in [*mine, an_order(bob, seconds=100), an_order(bob, seconds=-5)]:
        save(read_model, order)
    expected = sorted(mine, key=lambda o: (o.created_at, o.id), reverse=True)

    seen, cursor, pages = [], None, 0
    while True:
        page = read_model.orders_of(ada, 4, cursor)
        pages += 1
        seen += page.orders
        if page.next is None:
            break
        cursor = page.next
    assert seen == expected
    assert pages == 3
    assert read_model.orders_of(ada, 100).orders == expected
    assert read_model.orders_of(new_id(), 20).orders == []


def test_a_full_last_page_has_no_next_cursor(read_model):
    ada = new_id()
    for n in range(4):
        save(read_model, an_order(ada, seconds=n))
    page = read_model.orders_of(ada, 2)
    assert page.next is not None
    assert read_model.orders_of(ada, 2, page.next).next is None


def test_another_users_order_is_like_a_missing_one(read_model):
    ada, bob = new_id(), new_id()
    order = an_order(ada)
    save(read_model, order)
    assert read_model.order_of(ada, order.id) == order
    assert read_model.order_of(bob, order.id) is None
    assert read_model.order_of(ada, new_id()) is None


def test_times_keep_their_microseconds_and_come_back_in_utc(read_model):
    order = an_order(seconds=0.000001)
    save(read_model, order)
    stored = read_model.get(stream_of(order))
    assert stored.created_at == order.created_at
    assert stored.created_at.utcoffset() == timedelta(0)


def test_order_versions_are_the_orders_updated_since_newest_first_at_most_limit(read_model):
    old, recent, newer, newest = (
        an_order(updated_at=at(seconds), version=version)
        for seconds, version in ((0, 4), (60, 2), (120, 3), (180, 1))
    )
    for order in (old, recent, newer, newest):
        save(read_model, order)
    save(read_model, InventoryItem("MUG-01", 5, 0, 0, Decimal("7.50"), "EUR", 9))  # not an order

    assert read_model.order_versions(at(60), 10) == {
        stream_of(recent): 2,
        stream_of(newer): 3,
        stream_of(newest): 1,
    }
    assert read_model.order_versions(at(60), 2) == {stream_of(newer): 3, stream_of(newest): 1}
    assert read_model.order_versions(at(181), 10) == {}


def test_unfinished_orders_are_every_order_not_final_and_settled_by_id_a_page_at_a_time(read_model):
    unfinished = [
        an_order(status=status, updated_at=at(60), version=2) for status in UNFINISHED for _ in range(2)
    ]
    finished = [an_order(status=status, updated_at=at(60)) for status in (Status.FULFILLED, Status.CANCELLED)]
    unsettled = an_order(updated_at=at(120))  # the stream may still be working on it
    for order in (*unfinished, *finished, unsettled):
        save(read_model, order)
    save(read_model, InventoryItem("MUG-01", 5, 0, 0, Decimal("7.50"), "EUR", 9))  # not an order
    expected = [stream_of(order) for order in sorted(unfinished, key=lambda o: o.id)]

    pages, after = [], None
    while True:
        page = read_model.unfinished_orders(at(120), 3, after)
        pages.append(page.versions)
        if page.next is None:
            break
        assert page.next == order_stream_id(list(page.versions)[-1])  # the page's last order
        after = page.next

    assert [len(p) for p in pages] == [3, 3, 2]
    assert [stream for p in pages for stream in p] == expected  # by order id, none twice
    assert all(version == 2 for p in pages for version in p.values())
    assert read_model.unfinished_orders(at(60), 10).versions == {}  # updated at 60: not before it


def test_an_exactly_full_last_page_says_there_is_no_next_one(read_model):
    orders = [an_order(updated_at=at(0)) for _ in range(2)]
    for order in orders:
        save(read_model, order)
    first = read_model.unfinished_orders(at(1), 1)
    last = read_model.unfinished_orders(at(1), 1, first.next)
    assert first.next == min(o.id for o in orders)
    assert (len(last.versions), last.next) == (1, None)


def test_the_sweep_position_is_kept_until_replaced(read_model):
    assert read_model.sweep_position() is None
    order_id = new_id()
    read_model.save_sweep_position(order_id)
    assert read_model.sweep_position() == order_id
    read_model.save_sweep_position(None)
    assert read_model.sweep_position() is None


def order_stream_id(stream: str) -> str:
    return split_stream(stream)[1]
