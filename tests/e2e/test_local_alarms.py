"""The local CloudWatch: metrics from what the runtime sees and from the functions' EMF lines,
and the topology's alarms evaluated on them in moto, as `aws cloudwatch` on the moto URL shows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from infra import topology
from infra.dev.client import DevClient
from infra.dev.runtime import LocalRuntime, Options
from infra.dev.state import DevState
from infra.emulator.aws import client
from tests.e2e.conftest import eventually, stand_in_functions

pytestmark = [pytest.mark.e2e, pytest.mark.moto, pytest.mark.postgres, pytest.mark.xdist_group("e2e")]

ALARM_PERIOD = 3  # seconds: each alarm is evaluated this often, over this much data


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevState]:
    record_dir: Path = tmp_path_factory.mktemp("records")
    options = Options(
        port=0,
        state_file=tmp_path_factory.mktemp("state") / "dev.json",
        retry_delay=0.01,
        redelivery_delay=0,
        alarm_period=ALARM_PERIOD,
    )
    local = LocalRuntime(options, functions=stand_in_functions(record_dir))
    try:
        yield local.start()
    finally:
        local.stop(save=False)


def cloudwatch(state: DevState) -> Any:
    return client("cloudwatch", state.moto_url)


def alarm_state(state: DevState, name: str) -> str:
    (alarm,) = cloudwatch(state).describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return alarm["StateValue"]


def statistic(state: DevState, namespace: str, metric: str, dimension: tuple[str, str], stat: str) -> float:
    now = datetime.now(UTC)
    points = cloudwatch(state).get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": dimension[0], "Value": dimension[1]}],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=[stat],
    )["Datapoints"]
    return sum(point[stat] for point in points)


def test_every_topology_alarm_is_in_moto_with_the_cdk_settings(state):
    described = {
        a["AlarmName"]: a
        for page in cloudwatch(state).get_paginator("describe_alarms").paginate()
        for a in page["MetricAlarms"]
    }
    assert set(described) == {alarm.name for alarm in topology.alarms()}
    errors = described["payment-errors"]
    assert (errors["Namespace"], errors["MetricName"], errors["Statistic"]) == ("AWS/Lambda", "Errors", "Sum")
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": "payment"}]
    assert errors["ComparisonOperator"] == topology.ALARM_COMPARISON
    assert errors["EvaluationPeriods"] == topology.ALARM_EVALUATION_PERIODS
    assert errors["Threshold"] == 0


def test_an_emf_line_a_function_prints_becomes_a_metric(state):
    name = f"Probe{uuid.uuid4().hex[:8]}"
    DevClient(state).invoke("replay", {"metric": name, "value": 4})
    eventually(lambda: statistic(state, "orders", name, ("service", "orders"), "Sum") == 4)
    eventually(lambda: statistic(state, "AWS/Lambda", "Invocations", ("FunctionName", "replay"), "Sum") >= 1)


def test_a_function_error_puts_its_errors_alarm_in_alarm_then_back_to_ok(state):
    eventually(lambda: alarm_state(state, "migrate-errors") == "OK", timeout=4 * ALARM_PERIOD + 30)
    ok, _result, _ = DevClient(state).invoke_logged("migrate", {"fail": "on purpose"})
    assert not ok
    eventually(lambda: alarm_state(state, "migrate-errors") == "ALARM", timeout=4 * ALARM_PERIOD + 30)
    assert alarm_state(state, "replay-errors") == "OK"  # another function's alarm stays OK
    alarm = next(a for a in DevClient(state).alarms() if a["name"] == "migrate-errors")
    assert alarm["state"] == "ALARM"
    assert alarm["metric"] == "AWS/Lambda Errors FunctionName=migrate"
    # A period without errors: missing data is not breaching.
    eventually(lambda: alarm_state(state, "migrate-errors") == "OK", timeout=4 * ALARM_PERIOD + 30)


def test_a_message_in_a_dead_letter_queue_puts_its_alarm_in_alarm(state):
    sqs = client("sqs", state.moto_url)
    url = state.resources.queue_urls["refund-dlq"]
    sqs.send_message(QueueUrl=url, MessageBody='{"parked": true}')
    eventually(lambda: alarm_state(state, "refund-dlq-not-empty") == "ALARM", timeout=4 * ALARM_PERIOD + 30)
    assert alarm_state(state, "payment-dlq-not-empty") == "OK"
    sqs.purge_queue(QueueUrl=url)
    eventually(lambda: alarm_state(state, "refund-dlq-not-empty") == "OK", timeout=4 * ALARM_PERIOD + 30)
