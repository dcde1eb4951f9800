"""One contract for every Rebuilds adapter (replay's side of the read model): memory, Postgres."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from ordering.adapters.read_model_tables import rows
from ordering.domain.inventory import InventoryItem
from ordering.domain.order import Order, OrderLine, Status
from ordering.domain.user import User
from ordering.ports.read_model import ReadModelError, stream_of
from tests.support.builders import at, new_id
from tests.support.read_models import READ_MODELS, read_model_backend

REPLAY = "r1"


@pytest.fixture(params=READ_MODELS)
def backend(request):
    with read_model_backend(request.param) as backend:
        yield backend


def an_order(version: int = 1) -> Order:
    return Order(
        id=new_id(),
        user_id=new_id(),
        email="ada@example.com",
        status=Status.PENDING,
        lines=(OrderLine("MUG-01", 2, Decimal("7.50"), Decimal("15.00")),),
        total=Decimal("15.00"),
        currency="EUR",
        created_at=at(),
        updated_at=at(),
        version=version,
    )


def save(read_model, state):
    with read_model.changing(stream_of(state)) as change:
        change.save(state)


def expected_tally(states):
    by_table = {}
    for state in states:
        for name, table_rows in rows.rows_of(state).items():
            by_table.setdefault(name, []).extend(table_rows)
    return rows.tally_of(by_table)


def test_a_loaded_segment_is_recorded_and_its_rows_add_up(backend):
    rebuilds = backend.rebuilds
    first = [an_order(), InventoryItem("MUG-01", 3, 2, 0, Decimal("7.50"), "EUR", 4)]
    second = [User(new_id(), "ada@example.com", at(), 1), an_order(version=3)]
    rebuilds.begin(REPLAY)
    loads = [rebuilds.load(REPLAY, 0, 2, 9, first), rebuilds.load(REPLAY, 1, 2, 4, second)]
    assert [load.tally for load in loads] == [expected_tally(first), expected_tally(second)]
    assert rebuilds.recorded(REPLAY) == loads
    assert rebuilds.tally(REPLAY) == expected_tally(first + second)
    assert rebuilds.tally(REPLAY).counts == {"orders": 2, "order_items": 2, "inventory": 1, "users": 1}


def test_a_segment_loads_once(backend):
    rebuilds = backend.rebuilds
    rebuilds.begin(REPLAY)
    rebuilds.load(REPLAY, 0, 2, 1, [an_order()])
    before = rebuilds.tally(REPLAY)
    with pytest.raises(ReadModelError):
        rebuilds.load(REPLAY, 0, 2, 1, [an_order()])
    assert rebuilds.tally(REPLAY) == before
    assert len(rebuilds.recorded(REPLAY)) == 1


def test_begin_starts_from_empty(backend):
    rebuilds = backend.rebuilds
    rebuilds.begin(REPLAY)
    rebuilds.load(REPLAY, 0, 1, 1, [an_order()])
    rebuilds.begin(REPLAY)
    assert rebuilds.recorded(REPLAY) == []
    assert rebuilds.tally(REPLAY).counts["orders"] == 0


def test_lagging_names_what_the_live_model_holds_newer_or_alone(backend):
    live, rebuilds = backend.read_model, backend.rebuilds
    same, ahead, only_live = an_order(2), an_order(1), InventoryItem("MUG-01", 1, version=1)
    behind_live = User(new_id(), "ada@example.com", at(), 1)
    rebuilds.begin(REPLAY)
    rebuilds.load(REPLAY, 0, 1, 6, [same, ahead, replace(behind_live, version=2)])
    for state in (same, replace(ahead, status=Status.PAID, version=2), only_live, behind_live):
        save(live, state)
    assert sorted(rebuilds.lagging(REPLAY)) == sorted([stream_of(ahead), stream_of(only_live)])

    assert rebuilds.put(REPLAY, [replace(ahead, status=Status.PAID, version=2), only_live, same]) == 2
    assert rebuilds.lagging(REPLAY) == []


def test_differences_count_and_name_the_rows_that_differ(backend):
    live, rebuilds = backend.read_model, backend.rebuilds
    order, changed, gone = (
        an_order(),
        InventoryItem("MUG-01", 5, version=2),
        InventoryItem("CUP-02", 1, version=1),
    )
    new_user = User(new_id(), "ada@example.com", at(), 1)
    for state in (order, changed, gone):
        save(live, state)
    rebuilds.begin(REPLAY)
    rebuilds.load(REPLAY, 0, 1, 5, [order, replace(changed, available=4), new_user])
    found = {d.table: d for d in rebuilds.differences(REPLAY)}
    assert not found["orders"].any
    assert not found["order_items"].any
    assert (found["inventory"].only_live, found["inventory"].only_rebuilt, found["inventory"].changed) == (
        1,
        0,
        1,
    )
    assert found["inventory"].examples == ("CUP-02", "MUG-01")
    assert (found["users"].only_live, found["users"].only_rebuilt) == (0, 1)
    assert found["users"].examples == (new_user.id,)


def test_swap_makes_the_rebuilt_model_live_after_refreshing_what_moved(backend):
    live, rebuilds = backend.read_model, backend.rebuilds
    kept, moved = an_order(), an_order()
    stale_in_live = InventoryItem("MUG-01", 1, version=1)
    save(live, kept)
    save(live, stale_in_live)
    rebuilds.begin(REPLAY)
    rebuilds.load(REPLAY, 0, 1, 4, [kept, replace(stale_in_live, available=2, version=2), moved])
    save(live, replace(moved, status=Status.PAID, version=2))  # the projector moved it meanwhile
    asked = []

    def refresh(streams):
        asked.extend(streams)
        return [replace(moved, status=Status.PAID, version=2)]

    assert rebuilds.swap(REPLAY, refresh) == [stream_of(moved)]
    assert asked == [stream_of(moved)]
    assert live.get(stream_of(moved)).status is Status.PAID
    assert live.get("SKU#MUG-01").available == 2
    assert live.get(stream_of(kept)) == kept
    with pytest.raises(ReadModelError):
        rebuilds.recorded(REPLAY)  # it is the live model now, not a rebuild


def test_a_failed_swap_leaves_the_live_model_and_the_rebuild(backend):
    live, rebuilds = backend.read_model, backend.rebuilds
    order = an_order()
    save(live, order)
    rebuilds.begin(REPLAY)
    rebuilds.load(REPLAY, 0, 1, 1, [])

    def refresh(streams):
        raise ConnectionError("the log is unreachable")

    with pytest.raises(ConnectionError):
        rebuilds.swap(REPLAY, refresh)
    assert live.get(stream_of(order)) == order
    assert len(rebuilds.recorded(REPLAY)) == 1


def test_discard_drops_the_rebuild_only(backend):
    live, rebuilds = backend.read_model, backend.rebuilds
    order = an_order()
    save(live, order)
    rebuilds.begin(REPLAY)
    rebuilds.discard(REPLAY)
    rebuilds.discard(REPLAY)  # nothing left: still fine
    with pytest.raises(ReadModelError):
        rebuilds.recorded(REPLAY)
    assert live.get(stream_of(order)) == order


def test_replay_ids_are_checked(backend):
    with pytest.raises(ValueError, match="replay id"):
        backend.rebuilds.begin("x; DROP SCHEMA public")
