"""The local CloudWatch's pure parts: EMF lines read as metrics, Lambda's metrics per invocation,
and an alarm's state from its periods' statistics."""

from __future__ import annotations

import io
import json

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from infra import topology
from infra.emulator import logs
from infra.emulator.alarms import state_of
from infra.emulator.functions import Invocation
from infra.emulator.metrics import Datum, emf_data, emf_document_data, invocation_data


def powertools_line(capsys, name: str, value: float) -> str:
    metrics = Metrics(namespace="orders", service="orders")
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    metrics.flush_metrics()
    (line,) = [text for text in capsys.readouterr().out.splitlines() if "_aws" in text]
    return line


def test_a_powertools_emf_line_is_read_as_its_metric_with_its_dimensions(capsys) -> None:
    line = powertools_line(capsys, "EventsParked", 3)
    assert emf_data(line) == [Datum("orders", "EventsParked", (("service", "orders"),), 3.0, "Count")]


def test_a_log_line_that_is_not_emf_carries_no_metric() -> None:
    assert emf_data(json.dumps({"level": "INFO", "message": "Order placed"})) == []
    assert emf_data("plain text") == []
    assert emf_data(json.dumps({"_aws": {"CloudWatchMetrics": "nonsense"}})) == []


def _invocation(error: dict | None, lines: tuple[str, ...] = ()) -> Invocation:
    return Invocation("payment", "r-1", "sqs", None, False, error=error, duration_ms=12.5, log_lines=lines)


def test_a_failed_invocation_counts_one_error_and_one_invocation() -> None:
    data = {d.name: d.value for d in invocation_data(_invocation({"errorType": "ValueError"}))}
    assert data == {"Invocations": 1, "Errors": 1, "Duration": 12.5}


def test_a_throttled_invocation_counts_only_as_a_throttle(capsys) -> None:
    data = invocation_data(_invocation({"errorType": "TooManyRequestsException"}))
    assert [(d.name, d.value) for d in data] == [("Throttles", 1)]


def test_an_invocation_carries_the_metrics_its_log_printed(capsys) -> None:
    line = powertools_line(capsys, "OrdersPlaced", 2)
    names = [d.name for d in invocation_data(_invocation(None, ("not json", line)))]
    assert names == ["Invocations", "Errors", "Duration", "OrdersPlaced"]


def test_forwarding_a_line_leaves_the_document_its_invocation_reads_metrics_from() -> None:
    # The log reader parses a line once, forwards it and keeps it for the invocation's metrics:
    # the "source" the forwarded line gains must not become a dimension of its metric.
    directive = {"Namespace": "orders", "Dimensions": [["source"]], "Metrics": [{"Name": "Parked"}]}
    document = {"_aws": {"CloudWatchMetrics": [directive]}, "Parked": 1}
    out = io.StringIO()
    logs.configure(out)
    try:
        logs.forward_parsed("payment", json.dumps(document), document)
    finally:
        logs.configure()
    assert json.loads(out.getvalue())["source"] == "payment"
    assert emf_document_data(document) == [Datum("orders", "Parked", (), 1.0, "None")]


def test_an_alarm_is_in_alarm_only_when_its_periods_breach() -> None:
    assert state_of([1.0], 0, topology.ALARM_COMPARISON)[0] == "ALARM"
    assert state_of([0.0], 0, topology.ALARM_COMPARISON)[0] == "OK"
    assert state_of([None], 0, topology.ALARM_COMPARISON)[0] == "OK"  # missing data is not breaching
    assert state_of([1.0, None], 0, topology.ALARM_COMPARISON)[0] == "OK"


def test_every_alarm_kind_has_one_metric_both_sides_read() -> None:
    kinds = {alarm.kind for alarm in topology.alarms()}
    assert kinds <= set(topology.ALARM_METRICS)


def test_points_older_than_the_local_retention_are_dropped_and_newer_ones_kept() -> None:
    from datetime import UTC, datetime, timedelta

    import boto3
    from moto import mock_aws
    from moto.cloudwatch.models import cloudwatch_backends

    from infra.emulator.metrics import prune

    with mock_aws():
        cloudwatch = boto3.client("cloudwatch", region_name="eu-west-1")
        now = datetime.now(UTC)
        for age, value in ((timedelta(hours=4), 1.0), (timedelta(minutes=1), 2.0)):
            cloudwatch.put_metric_data(
                Namespace="orders", MetricData=[{"MetricName": "M", "Value": value, "Timestamp": now - age}]
            )
        backend = cloudwatch_backends["123456789012"]["eu-west-1"]
        prune(backend, now - timedelta(hours=3))
        assert [datum.value for datum in backend.metric_data] == [2.0]


def test_a_point_put_just_after_an_evaluation_is_in_the_next_evaluated_period() -> None:
    """However late the evaluation thread runs, every point falls in one evaluated period: an
    error put a moment after an evaluation puts its alarm in ALARM at the next one, and the
    period after that, without errors, puts it back to OK."""
    from datetime import UTC, datetime, timedelta

    import boto3
    from moto import mock_aws

    from infra.emulator import alarms
    from infra.emulator.metrics import Metrics as LocalMetrics

    period = 3
    (spec,) = [alarm for alarm in topology.alarms() if alarm.name == "migrate-errors"]
    with mock_aws():
        cloudwatch = boto3.client("cloudwatch", region_name="eu-west-1")
        metrics = LocalMetrics(cloudwatch)
        alarms.create(cloudwatch, [spec], period_seconds=period)
        evaluator = alarms.AlarmEvaluator(
            cloudwatch, [spec], period_seconds=period, samples=list, put=metrics.put, flush=metrics.flush
        )
        first = datetime.now(UTC)
        evaluator.evaluate(first)
        assert evaluator.states[spec.name] == "OK"
        metrics.put([Datum("AWS/Lambda", "Errors", (("FunctionName", "migrate"),), 1, "Count")])
        metrics.flush()  # the background flush, at its own time: after the first evaluation
        evaluator.evaluate(first + timedelta(seconds=period + 1))  # a late second evaluation
        assert evaluator.states[spec.name] == "ALARM"
        evaluator.evaluate(first + timedelta(seconds=2 * period + 1))
        assert evaluator.states[spec.name] == "OK"
