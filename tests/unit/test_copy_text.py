"""copy_text.py without a database: COPY's escaping, array literals, and the running tally."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from ordering.adapters.read_model_tables import rows
from ordering.adapters.read_model_tables.copy_text import CopyText, array_literal, copy_escaped
from ordering.domain.order import Order, OrderLine, Status
from ordering.domain.recorded import format_timestamp
from tests.support.builders import at, new_id


def test_copy_escaping_leaves_plain_text_alone_and_escapes_what_copy_reads():
    assert copy_escaped("ada@example.com") == "ada@example.com"
    assert copy_escaped("a\tb\nc\rd\\N") == "a\\tb\\nc\\rd\\\\N"


def test_array_elements_are_quoted_where_the_syntax_needs_it():
    assert array_literal([]) == "{}"
    assert array_literal(["order_confirmation", "payment_failed"]) == "{order_confirmation,payment_failed}"
    assert array_literal(["", "null", 'a "b"', "x,y", "back\\slash"]) == (
        '{"","null","a \\"b\\"","x,y","back\\\\slash"}'
    )


def orders(n: int) -> list[rows.Row]:
    return [
        rows.rows_of(
            Order(
                id=new_id(),
                user_id=new_id(),
                email=f"user{i}@example.com",
                status=Status.PENDING,
                lines=(OrderLine("MUG-01", 1, Decimal("7.50"), Decimal("7.50")),),
                total=Decimal("7.50"),
                currency="EUR",
                created_at=at(i),
                updated_at=at(i + 0.5),
                version=1,
                failure_reason=None if i % 2 else "a\tb",
            )
        )["orders"][0]
        for i in range(n)
    ]


def test_the_running_tally_is_tally_of_and_chunks_only_split_the_text():
    table_rows = orders(7)
    whole, split = CopyText(rows.ORDERS), CopyText(rows.ORDERS)
    text = "".join(whole.chunks(table_rows))
    chunks = list(split.chunks(table_rows, rows_per_chunk=3))
    assert len(chunks) == 3
    assert "".join(chunks) == text
    assert text.count("\n") == 7
    assert all(line.count("\t") == len(rows.ORDERS.columns) - 1 for line in text.splitlines())
    expected = rows.tally_of({"orders": table_rows})
    for tallied in (whole, split):
        assert (tallied.count, tallied.checksum) == (expected.counts["orders"], expected.sums["orders"])


def test_timestamps_keep_their_canonical_text():
    text_of = rows.TEXT_OF["users"][2]
    moments = [
        at(),
        at(0.25),
        at(3600.000001).astimezone(timezone(timedelta(hours=-7))),
        datetime(999, 1, 1, tzinfo=UTC),
    ]
    assert [text_of(moment) for moment in moments] == [format_timestamp(moment) for moment in moments]
    assert text_of(at(0.25)) == "2026-11-27T10:00:00.250000Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        text_of(datetime(2026, 1, 1))  # noqa: DTZ001 (naive on purpose)
