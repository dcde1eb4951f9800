"""Alarms and the dashboard: every function's errors and throttles, and a payment that waits too long."""

from __future__ import annotations

import json

import pytest

from infra import topology
from tests.infra.conftest import Synthesized, ref

pytestmark = pytest.mark.infra


def _alarms(synthesized: Synthesized) -> dict[str, tuple[str, dict]]:
    """topology alarm name -> (logical id, properties)."""
    prefix = f"{synthesized.stack_name}-"
    return {
        r["Properties"]["AlarmName"].removeprefix(prefix): (k, r["Properties"])
        for k, r in synthesized.of_type("AWS::CloudWatch::Alarm").items()
    }


def _watches(alarm: dict, namespace: str, metric: str, dimension: str, subject: dict) -> bool:
    return (
        alarm["Namespace"] == namespace
        and alarm["MetricName"] == metric
        and {"Name": dimension, "Value": subject} in alarm["Dimensions"]
    )


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_an_alarm_on_its_errors_and_throttles(
    synthesized: Synthesized, metric: str
) -> None:
    alarms = [props for _, props in _alarms(synthesized).values()]
    for name, logical_id in synthesized.functions().items():
        (alarm,) = [a for a in alarms if _watches(a, "AWS/Lambda", metric, "FunctionName", ref(logical_id))]
        assert alarm["Statistic"] == "Sum", name
        assert alarm["Threshold"] == 0, name
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold", name
        assert alarm["AlarmActions"], name


def test_the_payment_queue_alarms_when_a_charge_waits_too_long(synthesized: Synthesized) -> None:
    payment = synthesized.queues()["payment"]
    queue_name = {"Fn::GetAtt": [payment, "QueueName"]}
    alarms = [props for _, props in _alarms(synthesized).values()]
    (alarm,) = [
        a for a in alarms if _watches(a, "AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", queue_name)
    ]
    assert alarm["Statistic"] == "Maximum"
    assert alarm["Threshold"] == topology.PAYMENT_WAIT_ALARM_SECONDS
    # More than the time a message takes to be retried once: a single slow charge does not page anyone.
    assert topology.queue("payment").visibility_timeout_seconds < topology.PAYMENT_WAIT_ALARM_SECONDS
    assert alarm["AlarmActions"]


def test_the_dashboard_shows_the_state_of_every_alarm(synthesized: Synthesized) -> None:
    (dashboard,) = synthesized.of_type("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    alarms = _alarms(synthesized)
    assert set(alarms) == {a.name for a in topology.alarms()}
    for name, (logical_id, _) in alarms.items():
        assert json.dumps({"Fn::GetAtt": [logical_id, "Arn"]}) in body, name
