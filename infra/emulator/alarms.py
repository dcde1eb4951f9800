"""The topology's alarms in moto's CloudWatch, evaluated as CloudWatch evaluates them.

Each alarm of `topology.alarms()` is created with the metric, statistic, threshold, comparison
and evaluation periods the CDK app gives it (both read topology.ALARM_METRICS and the ALARM_*
settings). moto stores alarms but never evaluates them, so `AlarmEvaluator` does, every
period: it samples the queues' metrics (SQS publishes them by itself on AWS), reads each
alarm's statistic over its last evaluation periods from moto, and sets the alarm's state when
it changes: ALARM when every one of those periods breached, OK otherwise (a period without data
is not breaching), INSUFFICIENT_DATA only before the first evaluation, as a new alarm is.
`orders dev --alarm-period` shortens the period so a test sees an alarm fire in seconds.

Each evaluation reads the period that ends at the last whole second (moto keeps only whole
seconds of a query's ends) and starts where the previous one ended, so that every data point
is in exactly one evaluated period, however late the evaluation thread runs.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from infra import topology
from infra.emulator import logs
from infra.emulator.background import Background
from infra.emulator.metrics import Datum

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}


def create(cloudwatch: Any, alarms: Iterable[topology.Alarm], *, period_seconds: int) -> None:
    for alarm in alarms:
        metric = alarm.metric
        cloudwatch.put_metric_alarm(
            AlarmName=alarm.name,
            AlarmDescription=alarm.description,
            Namespace=metric.namespace,
            MetricName=metric.name,
            Dimensions=[{"Name": metric.dimension, "Value": alarm.dimension_value}],
            Statistic=metric.statistic,
            Period=period_seconds,
            EvaluationPeriods=topology.ALARM_EVALUATION_PERIODS,
            Threshold=alarm.threshold,
            ComparisonOperator=topology.ALARM_COMPARISON,
            TreatMissingData=topology.ALARM_MISSING_DATA,
        )


def state_of(values: Sequence[float | None], threshold: float, comparison: str) -> tuple[str, str]:
    """The state for the last evaluation periods' statistics (oldest first, None: no data)."""
    breaching = [value is not None and _COMPARE[comparison](value, threshold) for value in values]
    shown = ", ".join("no data" if value is None else f"{value:g}" for value in values)
    if values and all(breaching):
        return "ALARM", f"Threshold Crossed: [{shown}] {comparison} {threshold:g}"
    return "OK", f"Threshold not crossed: [{shown}] (missing data is not breaching)"


class AlarmEvaluator(Background):
    def __init__(
        self,
        cloudwatch: Any,
        alarms: Sequence[topology.Alarm],
        *,
        period_seconds: int,
        samples: Callable[[], list[Datum]],
        put: Callable[[list[Datum]], None],
        flush: Callable[[datetime], None],
    ) -> None:
        """`samples` reads the queues' metrics; `put` and `flush` hand them to metrics.Metrics
        (`flush(at)` puts what it holds at the time `at`)."""
        super().__init__(name="alarms")
        self.cloudwatch, self.alarms, self.period_seconds = cloudwatch, alarms, period_seconds
        self._samples, self._put, self._flush = samples, put, flush
        self.states: dict[str, str] = {alarm.name: "INSUFFICIENT_DATA" for alarm in alarms}
        self.evaluations = 0
        self._evaluated_until: datetime | None = None

    def _run(self) -> None:
        while not self._stopping.wait(self.period_seconds):
            try:
                self.evaluate()
            except Exception as error:  # moto stopping: the next period tries again
                logs.log("alarms", "evaluating the alarms failed", level="WARNING", error=repr(error))

    def evaluate(self, now: datetime | None = None) -> None:
        """Evaluate the period from the previous evaluation's end to `now`'s whole second.

        What the runtime gathered so far is put at a time just inside that period; a point
        Metrics puts by itself carries its own later time and falls in the next period."""
        end = (now or datetime.now(UTC)).replace(microsecond=0)
        start = self._evaluated_until or end - timedelta(seconds=self.period_seconds)
        if start >= end:
            return  # evaluated twice within one second: the period is still empty
        self._put(self._samples())
        self._flush(end - timedelta(milliseconds=1))
        for alarm in self.alarms:
            values = self._statistics(alarm, start, end)
            state, reason = state_of(values, alarm.threshold, topology.ALARM_COMPARISON)
            if state != self.states[alarm.name]:
                self.cloudwatch.set_alarm_state(
                    AlarmName=alarm.name,
                    StateValue=state,
                    StateReason=reason,
                    StateReasonData=json.dumps({"recentDatapoints": values, "threshold": alarm.threshold}),
                )
                if state == "ALARM" or self.states[alarm.name] == "ALARM":
                    logs.log(
                        "alarms",
                        f"alarm {alarm.name}: {state}",
                        level="WARNING" if state == "ALARM" else "INFO",
                        reason=reason,
                    )
                self.states[alarm.name] = state
        self._evaluated_until = end
        self.evaluations += 1

    def _statistics(self, alarm: topology.Alarm, start: datetime, end: datetime) -> list[float | None]:
        """The alarm's statistic in each of its last evaluation periods, oldest first: the
        latest is [start, end), each earlier one a whole period before it."""
        period = timedelta(seconds=self.period_seconds)
        periods = topology.ALARM_EVALUATION_PERIODS
        bounds = [
            (start - period * back, end if back == 0 else start - period * (back - 1))
            for back in range(periods)
        ]
        return [self._statistic(alarm, first, last) for first, last in reversed(bounds)]

    def _statistic(self, alarm: topology.Alarm, start: datetime, end: datetime) -> float | None:
        metric = alarm.metric
        points = self.cloudwatch.get_metric_statistics(
            Namespace=metric.namespace,
            MetricName=metric.name,
            Dimensions=[{"Name": metric.dimension, "Value": alarm.dimension_value}],
            StartTime=start,
            EndTime=end,
            Period=int((end - start).total_seconds()),  # one datapoint for the whole period
            Statistics=[metric.statistic],
        )["Datapoints"]
        value: float | None = None
        for point in points:
            found = float(point[metric.statistic])
            value = found if value is None else _combine(metric.statistic, value, found)
        return value

    def describe(self) -> list[dict[str, Any]]:
        """Every alarm as `aws cloudwatch describe-alarms` shows it, for the console and the CLI."""
        found = []
        pages = self.cloudwatch.get_paginator("describe_alarms").paginate()
        by_name = {a["AlarmName"]: a for page in pages for a in page["MetricAlarms"]}
        for alarm in self.alarms:
            described = by_name.get(alarm.name, {})
            found.append(
                {
                    "name": alarm.name,
                    "kind": alarm.kind,
                    "subject": alarm.subject,
                    "state": described.get("StateValue", "INSUFFICIENT_DATA"),
                    "reason": described.get("StateReason"),
                    "since": str(described.get("StateUpdatedTimestamp", "")) or None,
                    "metric": f"{alarm.metric.namespace} {alarm.metric.name} "
                    f"{alarm.metric.dimension}={alarm.dimension_value}",
                    "statistic": alarm.metric.statistic,
                    "threshold": alarm.threshold,
                    "period_seconds": self.period_seconds,
                    "description": alarm.description,
                }
            )
        return found


def _combine(statistic: str, first: float, second: float) -> float:
    return first + second if statistic == "Sum" else max(first, second)
