"""Pure parts of the developer loop: the pretty log line, and which function an event fits."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from infra.dev import event_fixtures
from infra.emulator import logs

EVENTS = Path(__file__).resolve().parents[1] / "events"


def test_a_pretty_line_has_time_source_level_correlation_and_message():
    line = logs.pretty(
        {
            "timestamp": "2026-12-02T10:43:42.854Z",
            "level": "WARNING",
            "source": "payment",
            "correlation_id": "checkout-1",
            "message": "declined",
            "order_id": "o-1",
        },
        colour=False,
    )
    assert line.startswith("10:43:42.854 payment      WARNING [checkout-1] declined")
    assert line.endswith("order_id=o-1")


def test_a_powertools_line_keeps_its_clock_and_drops_the_repeated_fields():
    powertools = {
        "level": "INFO",
        "location": "handler:35",
        "message": "Order settled",
        "timestamp": "2026-12-02 10:56:47,240+0000",
        "service": "orders",
        "source": "inventory",
    }
    assert logs.pretty(powertools, colour=False) == "10:56:47,240 inventory    INFO    Order settled"


def test_colours_are_by_source_and_only_when_asked():
    from infra import topology

    def colour_of(source: str) -> str:
        painted = re.search(r"\x1b\[(\d+)m" + source, logs.pretty({"source": source, "message": "m"}))
        assert painted, source
        return painted.group(1)

    assert colour_of("payment") == colour_of("payment")
    assert len({colour_of(function.name) for function in topology.FUNCTIONS}) >= 5
    assert "\x1b[" not in logs.pretty({"source": "gateway", "message": "m"}, colour=False)


def test_the_format_follows_the_stream_and_ci():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert logs.default_format(Terminal(), {}) == "pretty"
    assert logs.default_format(io.StringIO(), {}) == "json"
    assert logs.default_format(Terminal(), {"CI": "true"}) == "json"


def test_configured_pretty_the_log_writes_pretty_lines_and_json_otherwise():
    out = io.StringIO()
    try:
        logs.configure(out, format="pretty")
        logs.log("runtime", "ready", url="http://x")
        logs.configure(out, format="json")
        logs.log("runtime", "ready")
    finally:
        logs.configure()
    pretty, plain = out.getvalue().splitlines()
    assert " runtime      INFO    ready  url=http://x" in pretty
    assert json.loads(plain)["message"] == "ready"


@pytest.mark.parametrize(
    ("fixture", "functions"),
    [
        ("apigateway_cancel_order", ("cancel_order",)),
        ("apigateway_get_order", ("query_orders",)),
        ("apigateway_place_order", ("place_order",)),
        ("apigateway_restock", ("restock",)),
        ("cognito_post_confirmation", ("register_user",)),
        ("dynamodb_stream_event_insert", ("projector", "publisher")),
        ("eventbridge_payment_failed", ("inventory",)),
        ("eventbridge_order_fulfilled", ("notification",)),
        ("eventbridge_scheduled_reconcile", ("reconcile",)),
        ("sqs_order_placed", ("payment",)),
    ],
)
def test_an_event_fits_the_functions_the_topology_delivers_it_to(fixture, functions):
    assert event_fixtures.functions_for(event_fixtures.load(EVENTS / f"{fixture}.json")) == functions


def test_an_event_of_no_known_shape_fits_nothing():
    assert event_fixtures.functions_for({"hello": "world"}) == ()


def test_an_event_file_that_is_a_list_is_refused(tmp_path):
    path = tmp_path / "list.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(event_fixtures.BadEvent, match="holds a JSON list; an event is a JSON object"):
        event_fixtures.load(path)
