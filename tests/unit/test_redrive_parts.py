"""The topology's table of what is parked where, and where it goes back to."""

from __future__ import annotations

import pytest

from infra import topology


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
