"""Replay's cheap parts on their own: the paused collector, the state copy, JSON decoding."""

from __future__ import annotations

import gc
import threading
from dataclasses import replace
from decimal import Decimal

import pytest

from generated import models as m
from ordering.domain.changed import changed
from ordering.domain.events import InvalidEvent, parse_event, parse_event_json
from ordering.domain.inventory import InventoryItem
from ordering.services.gc_paused import gc_paused


def test_the_collector_is_paused_while_loading_and_restored_after_even_on_error():
    assert gc.isenabled()
    seen = []

    def failing_load() -> None:
        with gc_paused():
            seen.append((gc.isenabled(), gc.get_freeze_count() > 0))
            raise RuntimeError("a segment failed")

    with pytest.raises(RuntimeError):
        failing_load()
    assert seen == [(False, True)]
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_loads_in_parallel_threads_restore_the_collector_when_the_last_one_ends():
    first_in, second_done, seen = threading.Event(), threading.Event(), []

    def first() -> None:
        with gc_paused():
            first_in.set()
            second_done.wait(5)
            seen.append(gc.isenabled())  # the second ended: still paused for this one

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(5)
    with gc_paused():
        pass
    second_done.set()
    thread.join()
    assert seen == [False]
    assert gc.isenabled()


def test_changed_is_replace_without_running_init_again():
    item = InventoryItem("MUG-01", available=5, price=Decimal("7.50"), currency="EUR", version=2)
    copy = changed(item, available=4, version=3)
    assert copy == replace(item, available=4, version=3)
    assert item.available == 5  # the original is untouched
    with pytest.raises(AttributeError):
        copy.available = 1  # type: ignore[misc]  (still frozen)
    with pytest.raises(TypeError, match="avialable"):
        changed(item, avialable=4)


def test_stored_json_is_validated_as_the_dict_is():
    text = m.StockAdded(sku="MUG-01", quantity=3).model_dump_json()
    assert parse_event_json("StockAdded", 1, text) == parse_event(
        "StockAdded", 1, {"sku": "MUG-01", "quantity": 3}
    )
    for bad in (
        '{"sku": "MUG-01", "quantity": "3"}',
        '{"sku": "MUG-01"}',
        "{not json",
        '{"sku": "MUG-01", "quantity": 3.5}',
    ):
        with pytest.raises(InvalidEvent, match="StockAdded v1 data is invalid"):
            parse_event_json("StockAdded", 1, bad)
    with pytest.raises(InvalidEvent, match="unknown event type"):
        parse_event_json("Nope", 1, text)
