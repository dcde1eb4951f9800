"""`orders dev --aws-latency`: moto answers each AWS request a round trip later (no clock read)."""

from __future__ import annotations

from typing import Any

import pytest

from infra.dev.moto_main import LocalApi
from infra.emulator.latency import NetworkLatency
from infra.emulator.request_counter import RequestCounter


def test_half_the_round_trip_is_waited_before_the_request_is_read_and_half_before_the_answer_leaves():
    happened: list[Any] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        happened.append(("answered", environ["PATH_INFO"]))
        start_response("200 OK", [])
        return [b"{}"]

    delayed = NetworkLatency(app, 10, sleep=lambda seconds: happened.append(("slept", seconds)))

    body = delayed({"PATH_INFO": "/"}, lambda status, headers: None)

    assert body == [b"{}"]
    assert happened == [("slept", 0.005), ("answered", "/"), ("slept", 0.005)]


@pytest.mark.parametrize("round_trip_ms", [0, -1, 1000.5])
def test_a_round_trip_out_of_range_is_refused(round_trip_ms):
    with pytest.raises(ValueError, match="round trip"):
        NetworkLatency(lambda environ, start_response: [], round_trip_ms)


def test_moto_is_reached_through_the_latency_only_when_one_is_asked_for():
    counter = RequestCounter(lambda environ, start_response: [])

    assert LocalApi(counter).aws is counter
    delayed = LocalApi(counter, 5).aws
    assert isinstance(delayed, NetworkLatency)
