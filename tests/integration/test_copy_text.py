"""Replay's COPY text (copy_text.py) into Postgres: values come back as written, and the
checksum Postgres recomputes still catches a value it changed on the way in."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta, timezone
from decimal import Decimal

import pytest

from generated import models as m
from ordering.adapters.read_model_tables import rows
from ordering.domain.inventory import InventoryItem
from ordering.domain.order import Order, OrderLine, Status
from ordering.domain.user import User
from tests.support.builders import at, new_id
from tests.support.postgres import canonical_rows, expected_rows, fresh_read_model

pytestmark = pytest.mark.postgres

REPLAY = "r1"


def awkward_order() -> Order:
    """Every value COPY's text format gives a meaning to, and a time not in UTC."""
    return Order(
        id=new_id().upper(),
        user_id=new_id(),
        email="tab\there\\back@example.com",
        status=Status.PAYMENT_FAILED,
        lines=(
            OrderLine("MUG\\01", 2, Decimal("7.50"), Decimal("15.00")),
            OrderLine("NULL", 1, Decimal("0.05"), Decimal("0.05")),
        ),
        total=Decimal("15.05"),
        currency="EUR",
        created_at=at().astimezone(timezone(timedelta(hours=5, minutes=30))),
        updated_at=at(1.000001),
        version=7,
        client_reference="\\N",
        payment_reference=None,
        failure_reason="line one\r\nline two\n",
        emails_sent=frozenset({m.EmailKind.payment_failed, m.EmailKind.order_confirmation}),
    )


def test_awkward_values_are_stored_as_written_and_add_up():
    states = [
        awkward_order(),
        replace(awkward_order(), emails_sent=frozenset(), client_reference=None),
        InventoryItem("MUG\t01", 3, 2, 0, None, None, 4),
        User(new_id(), "ada\nlovelace@example.com", at(), 1),
    ]
    with fresh_read_model() as pg:
        rebuilds = pg.rebuilds
        rebuilds.begin(REPLAY)
        loaded = rebuilds.load(REPLAY, 0, 1, 9, states)
        by_table: dict[str, list[rows.Row]] = {}
        for state in states:
            for name, table_rows in rows.rows_of(state).items():
                by_table.setdefault(name, []).extend(table_rows)
        assert loaded.tally == rows.tally_of(by_table)
        assert rebuilds.tally(REPLAY) == loaded.tally
        assert canonical_rows(rebuilds.schema_of(REPLAY)) == expected_rows(states)
        stored = pg.rows("orders", rebuilds.schema_of(REPLAY))
        assert {tuple(row[9]) for row in stored} == {(), ("order_confirmation", "payment_failed")}
        assert {row[8] for row in stored} == {"line one\r\nline two\n"}
        assert {row[6] for row in stored} == {"\\N", None}


def test_money_postgres_rounds_otherwise_than_we_do_shows_in_the_tally():
    # numeric(12, 2) rounds 0.125 half away from zero (0.13); our canonical text rounds half to
    # even (0.12). COPY is sent the exact value, so the stored rows do not add up.
    order = replace(awkward_order(), total=Decimal("0.125"))
    with fresh_read_model() as pg:
        rebuilds = pg.rebuilds
        rebuilds.begin(REPLAY)
        loaded = rebuilds.load(REPLAY, 0, 1, 1, [order])
        assert rebuilds.tally(REPLAY).counts == loaded.tally.counts
        assert rebuilds.tally(REPLAY) != loaded.tally
