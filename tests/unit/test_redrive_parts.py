"""Redrive's pure parts: the topology's table of what is parked where and where it goes back to,
and the stream on-failure pointer (its range and the stream's 24 h retention)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from infra import topology
from infra.dev.redrive import StreamRange

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_every_dead_letter_and_on_failure_queue_has_exactly_one_source():
    consumed = {consumer.queue for consumer in topology.QUEUE_CONSUMERS}
    parked = {p.dead_letter for p in topology.parked_sources()}
    assert parked == {q.name for q in topology.QUEUES} - consumed
    assert len(parked) == len(topology.parked_sources())


def test_each_kind_names_where_its_messages_go_back_to():
    by_queue = {p.dead_letter: p for p in topology.parked_sources()}
    assert by_queue["payment-dlq"] == topology.ParkedSource("payment-dlq", "queue", "payment")
    assert by_queue["inventory-dlq"] == topology.ParkedSource(
        "inventory-dlq", "rule_target", "inventory", rule="payment-outcome-to-inventory"
    )
    assert by_queue["projector-failures"] == topology.ParkedSource(
        "projector-failures", "stream_consumer", "projector"
    )
    assert "`payment` queue" in by_queue["payment-dlq"].redrive
    assert "read again from the stream" in by_queue["projector-failures"].redrive


def test_every_parked_queue_and_nothing_else_has_a_depth_alarm():
    watched = {alarm.subject for alarm in topology.alarms() if alarm.kind == "dlq_depth"}
    assert watched == {p.dead_letter for p in topology.parked_sources()}


def test_a_queue_that_is_not_parked_work_is_refused_naming_the_known_ones():
    with pytest.raises(KeyError, match=r"'payment' is not a dead-letter queue .*payment-dlq"):
        topology.parked_source("payment")


def pointer(arrival: datetime | None, **info: str) -> dict:
    batch = {
        "shardId": "shardId-1",
        "startSequenceNumber": "900000000000000000001",
        "endSequenceNumber": "900000000000000000099",
        "batchSize": 3,
        "streamArn": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/x",
        **info,
    }
    if arrival is not None:
        batch["approximateArrivalOfFirstRecord"] = arrival.isoformat().replace("+00:00", "Z")
    return {"requestContext": {"condition": "RetryAttemptsExhausted"}, "DDBStreamBatchInfo": batch}


def test_a_pointer_names_its_shard_and_range_and_compares_sequence_numbers_as_numbers():
    pointed = StreamRange.of(pointer(NOW))
    assert (pointed.shard_id, pointed.batch_size, pointed.first_arrival) == ("shardId-1", 3, NOW)
    assert pointed.holds("900000000000000000001")
    assert pointed.holds("900000000000000000099")
    assert not pointed.holds("900000000000000000100")
    assert not pointed.holds("99")  # shorter, so smaller: a text comparison would say otherwise


@pytest.mark.parametrize(
    ("age", "past"),
    [(timedelta(hours=23, minutes=59), False), (timedelta(hours=24, seconds=1), True)],
)
def test_records_older_than_the_streams_24_hours_are_past_retention(age, past):
    assert StreamRange.of(pointer(NOW - age)).past_retention(NOW) is past


def test_a_pointer_without_an_arrival_time_is_tried_against_the_stream():
    assert StreamRange.of(pointer(None)).past_retention(NOW) is False


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"something": "else"}, "no DDBStreamBatchInfo"),
        ("not even an object", "no DDBStreamBatchInfo"),
        (pointer(NOW, startSequenceNumber=""), "lacks startSequenceNumber"),
    ],
)
def test_a_message_that_is_not_a_pointer_says_what_it_lacks(body, problem):
    with pytest.raises(ValueError, match=problem):
        StreamRange.of(body)


def test_the_deploy_guide_redrives_every_parked_queue_from_the_source_the_topology_gives_it():
    guide = (Path(__file__).resolve().parents[2] / "docs" / "deploy.md").read_text(encoding="utf-8")
    section = guide.split("### Redriving parked work", 1)[1].split("\n### ", 1)[0]
    rows = {
        cells[0].strip("` "): cells[1].strip()
        for line in section.splitlines()
        if line.startswith("| `orders-")
        for cells in [line.strip("|").split("|")]
    }

    def came_from(parked: topology.ParkedSource) -> str:
        if parked.kind == "queue":
            return f"queue `{parked.source}`"
        if parked.kind == "rule_target":
            return f"rule target `{parked.source}` (rule `{parked.rule}`)"
        return f"stream consumer `{parked.source}`"

    assert rows == {f"orders-{p.dead_letter}": came_from(p) for p in topology.parked_sources()}
