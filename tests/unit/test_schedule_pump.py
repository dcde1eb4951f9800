"""The local stand-in for a scheduled rule: it invokes its function with EventBridge's
"Scheduled Event" every period, goes on after a failed run, and stops when told."""

from __future__ import annotations

import threading

from infra import topology
from infra.dev import event_fixtures
from infra.emulator.schedule_pump import SchedulePump

SCHEDULE = topology.schedule("reconcile-read-model")
ARN = "arn:aws:events:eu-west-1:123456789012:rule/reconcile-read-model"


def test_the_function_is_invoked_every_period_with_a_scheduled_event_even_after_a_failure():
    calls: list[tuple[str, dict]] = []
    third = threading.Event()

    def invoke(name: str, event: dict) -> None:
        calls.append((name, event))
        if len(calls) == 1:
            raise RuntimeError("the container died")
        if len(calls) == 3:
            third.set()

    pump = SchedulePump(
        SCHEDULE,
        invoke=invoke,
        rule_arn=ARN,
        region="eu-west-1",
        account_id="123456789012",
        period_seconds=0.05,
    )
    pump.start()
    assert third.wait(10)
    pump.stop()
    runs = len(calls)

    assert [name for name, _ in calls] == ["reconcile"] * runs
    _, event = calls[-1]
    assert (event["detail-type"], event["source"], event["resources"], event["detail"]) == (
        "Scheduled Event",
        "aws.events",
        [ARN],
        {},
    )
    assert event_fixtures.functions_for(event) == ("reconcile",)  # `orders invoke` agrees
    assert pump.runs == runs
    assert not pump.busy


def test_a_stopped_pump_invokes_nothing_more():
    calls: list[str] = []
    pump = SchedulePump(
        SCHEDULE,
        invoke=lambda name, event: calls.append(name),
        rule_arn=ARN,
        region="eu-west-1",
        account_id="123456789012",
        period_seconds=3600,
    )
    pump.start()
    pump.stop()
    assert calls == []
