"""CloudWatch metrics, locally: what the functions' EMF lines say, and what Lambda, API Gateway
and SQS report on AWS without being asked, put into moto's CloudWatch.

Powertools Metrics prints a metric as an EMF line (Embedded Metric Format) in the function's
log; on AWS, CloudWatch Logs turns that line into a metric. Here `emf_data` reads those lines
from each invocation's log. Lambda's own metrics (Invocations, Errors, Throttles, Duration, and
IteratorAge for a stream consumer), API Gateway's (Count, 4XXError, 5XXError) and SQS's
(ApproximateNumberOfMessagesVisible, ApproximateAgeOfOldestMessage) are made from what the
local runtime sees. `Metrics` gathers them and puts them into moto once a second, summed per
metric (a statistic set, as the CloudWatch agent does), so `aws cloudwatch
get-metric-statistics --endpoint-url <moto>` and the alarms (alarms.py) read them.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.emulator import logs
from infra.emulator.background import Background
from infra.emulator.functions import Invocation

FLUSH_SECONDS = 1.0
# moto scans every data point it holds for each statistic asked: a day of points would make
# each alarm evaluation slower. Kept locally for three hours (CloudWatch keeps 15 months).
RETENTION_SECONDS = 3 * 3600
PRUNE_EVERY_FLUSHES = 60
PUT_LIMIT = 1000  # CloudWatch takes at most 1,000 metrics per PutMetricData call

Dimensions = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Datum:
    namespace: str
    name: str
    dimensions: Dimensions
    value: float
    unit: str = "None"


def emf_data(line: str) -> list[Datum]:
    """The metrics an EMF log line carries (none if it is not one)."""
    return emf_document_data(logs.parse(line))


def emf_document_data(document: dict[str, Any] | None) -> list[Datum]:
    """The metrics a parsed log line carries (logs.parse): each metric once per dimension set its
    directive names, as CloudWatch Logs extracts them."""
    aws = document.get("_aws") if document is not None else None
    directives = aws.get("CloudWatchMetrics") if isinstance(aws, dict) else None
    if not isinstance(directives, list):
        return []
    found = []
    for directive in directives:
        namespace = directive.get("Namespace") if isinstance(directive, dict) else None
        if not isinstance(namespace, str):
            continue
        for dimension_set in directive.get("Dimensions") or [[]]:
            dimensions = tuple((name, str(document[name])) for name in dimension_set if name in document)
            for metric in directive.get("Metrics") or []:
                name = metric.get("Name") if isinstance(metric, dict) else None
                value = document.get(name) if isinstance(name, str) else None
                for each in value if isinstance(value, list) else [value]:
                    if isinstance(each, int | float) and not isinstance(each, bool):
                        found.append(
                            Datum(namespace, str(name), dimensions, float(each), metric.get("Unit", "None"))
                        )
    return found


def invocation_data(invocation: Invocation) -> list[Datum]:
    """What Lambda reports for one invocation, and the EMF metrics its log printed.

    A throttled invocation (every container busy) counts only as a Throttle, as on AWS; one
    refused because the runtime is stopping counts as nothing."""
    function = (("FunctionName", invocation.function),)
    error_type = None if invocation.error is None else invocation.error.get("errorType")
    if error_type == "TooManyRequestsException":
        return [Datum("AWS/Lambda", "Throttles", function, 1, "Count")]
    if error_type == "ServiceException":
        return []
    found = [
        Datum("AWS/Lambda", "Invocations", function, 1, "Count"),
        Datum("AWS/Lambda", "Errors", function, 0 if invocation.ok else 1, "Count"),
        Datum("AWS/Lambda", "Duration", function, invocation.duration_ms, "Milliseconds"),
    ]
    for document in invocation.documents():
        found += emf_document_data(document)
    return found


def api_response_data(api_name: str, status: int) -> list[Datum]:
    """API Gateway's per-request metrics: Count, 4XXError and 5XXError (0 or 1 each)."""
    api = (("ApiName", api_name),)
    return [
        Datum("AWS/ApiGateway", "Count", api, 1, "Count"),
        Datum("AWS/ApiGateway", "4XXError", api, 1 if 400 <= status < 500 else 0, "Count"),
        Datum("AWS/ApiGateway", "5XXError", api, 1 if status >= 500 else 0, "Count"),
    ]


def iterator_age_data(function: str, records: list[dict[str, Any]]) -> list[Datum]:
    """Lambda's IteratorAge for a stream batch: how old its last record is, in milliseconds."""
    created = records[-1].get("dynamodb", {}).get("ApproximateCreationDateTime") if records else None
    if not isinstance(created, int | float):
        return []
    age = max(0.0, (time.time() - created) * 1000)
    return [Datum("AWS/Lambda", "IteratorAge", (("FunctionName", function),), age, "Milliseconds")]


def datum_to_json(datum: Datum) -> list[Any]:
    return [datum.namespace, datum.name, [list(pair) for pair in datum.dimensions], datum.value, datum.unit]


def datum_from_json(data: list[Any]) -> Datum:
    namespace, name, dimensions, value, unit = data
    return Datum(namespace, name, tuple((key, val) for key, val in dimensions), value, unit)


def queue_data(sqs_backend: Any, queue_names: Iterable[str]) -> list[Datum]:
    """SQS's per-queue metrics, read from moto's backend (in moto's process, moto_main.py): the visible
    messages, and the age in seconds of the oldest message not deleted yet."""
    found = []
    now_ms = time.time() * 1000
    for name in queue_names:
        queue = sqs_backend.queues.get(name)
        if queue is None:
            continue
        messages = list(queue._messages)
        visible = sum(1 for message in messages if message.visible and not message.delayed)
        sent = [message.sent_timestamp for message in messages if message.sent_timestamp is not None]
        age = (now_ms - min(sent)) / 1000 if sent else 0.0
        dimensions = (("QueueName", name),)
        found.append(Datum("AWS/SQS", "ApproximateNumberOfMessagesVisible", dimensions, visible, "Count"))
        found.append(Datum("AWS/SQS", "ApproximateAgeOfOldestMessage", dimensions, max(0.0, age), "Seconds"))
    return found


class Metrics(Background):
    """Gathers data points and puts them into moto's CloudWatch every `flush_seconds`."""

    def __init__(
        self,
        cloudwatch: Any,
        *,
        flush_seconds: float = FLUSH_SECONDS,
        prune: Callable[[datetime], None] | None = None,
    ) -> None:
        """`prune(before)` drops moto's data points older than `before` (see `prune` below)."""
        super().__init__(name="metrics")
        self.cloudwatch, self.prune = cloudwatch, prune
        self.flush_seconds = flush_seconds
        self._buffer: list[Datum] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()  # a flush that returns has put every earlier one

    def put(self, data: Iterable[Datum]) -> None:
        with self._lock:
            self._buffer.extend(data)

    def _run(self) -> None:
        flushes = 0
        while not self._stopping.wait(self.flush_seconds):
            self.flush()
            flushes += 1
            if self.prune is not None and flushes % PRUNE_EVERY_FLUSHES == 0:
                try:
                    self.prune(datetime.now(UTC) - timedelta(seconds=RETENTION_SECONDS))
                except Exception as error:  # moto stopping: the next prune tries again
                    logs.log("metrics", "pruning metrics failed", level="WARNING", error=repr(error))
        self.flush()

    def flush(self, at: datetime | None = None) -> None:
        """Sum what was gathered per metric, dimensions and unit, and put it as statistic sets
        at the time `at` (now if None)."""
        with self._flushing:
            self._flush(at or datetime.now(UTC))

    def _flush(self, now: datetime) -> None:
        with self._lock:
            data, self._buffer = self._buffer, []
        groups: dict[tuple[str, str, Dimensions, str], list[float]] = collections.defaultdict(list)
        for datum in data:
            groups[(datum.namespace, datum.name, datum.dimensions, datum.unit)].append(datum.value)
        by_namespace: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        for (namespace, name, dimensions, unit), values in groups.items():
            by_namespace[namespace].append(
                {
                    "MetricName": name,
                    "Dimensions": [{"Name": key, "Value": value} for key, value in dimensions],
                    "Timestamp": now,
                    "StatisticValues": {
                        "SampleCount": len(values),
                        "Sum": sum(values),
                        "Minimum": min(values),
                        "Maximum": max(values),
                    },
                    "Unit": unit,
                }
            )
        for namespace, metric_data in by_namespace.items():
            for start in range(0, len(metric_data), PUT_LIMIT):
                try:
                    self.cloudwatch.put_metric_data(
                        Namespace=namespace, MetricData=metric_data[start : start + PUT_LIMIT]
                    )
                except Exception as error:  # moto stopping, or a metric it refuses: log, go on
                    logs.log("metrics", "putting metrics failed", level="WARNING", error=repr(error))


def prune(backend: Any, before: datetime) -> None:
    """Drop moto's data points older than `before` (a new list: readers keep the one they hold)."""
    naive = before.replace(tzinfo=None)  # moto may hold naive UTC times

    def recent(datum: Any) -> bool:
        return datum.timestamp >= (naive if datum.timestamp.tzinfo is None else before)

    backend.metric_data = [datum for datum in list(backend.metric_data) if recent(datum)]
