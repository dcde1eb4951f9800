"""Stand-in handlers: the local runtime runs these in place of the real functions when a test
checks the runtime itself (pumps, containers, proxy events) rather than the business.

Each writes what it received, one JSON line per invocation, to $RECORD_DIR/<function>.jsonl,
and fails on command: a record, message or event whose payload contains the word "poison".
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

POISON = "poison"
_invocations = 0  # a module global: it lives as long as the container, as on Lambda


def _record(entry: dict[str, Any]) -> None:
    path = Path(os.environ["RECORD_DIR"]) / f"{os.environ['AWS_LAMBDA_FUNCTION_NAME']}.jsonl"
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")


def stream(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A stream consumer. With FAIL_BY=raise it raises on a poison record (a function error),
    otherwise it reports the poison and every later record (partial batch response). A batch
    with a "slow" record takes a second; each entry notes when the batch started and ended."""
    records = event["Records"]
    numbers = [record["dynamodb"]["SequenceNumber"] for record in records]
    poisoned = [POISON in json.dumps(record["dynamodb"].get("NewImage", {})) for record in records]
    first_bad = poisoned.index(True) if True in poisoned else len(records)
    started = time.time()
    if "slow" in json.dumps([record["dynamodb"].get("NewImage", {}) for record in records]):
        time.sleep(1)  # a batch long enough that another shard's batch runs meanwhile
    _record(
        {
            "event": event,
            "processed": numbers[:first_bad],
            "failed": numbers[first_bad:],
            "started": started,
            "ended": time.time(),
        }
    )
    if first_bad == len(records):
        return {"batchItemFailures": []}
    if os.environ.get("FAIL_BY") == "raise":
        raise ValueError(f"poison record {numbers[first_bad]}")
    return {"batchItemFailures": [{"itemIdentifier": number} for number in numbers[first_bad:]]}


def queue(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An SQS consumer: every message whose body holds the poison is reported failed."""
    failed = [record["messageId"] for record in event["Records"] if POISON in record["body"]]
    _record({"event": event, "failed": failed})
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}


def rule_target(event: dict[str, Any], context: Any) -> None:
    """An EventBridge target: raises on a poisoned event, so that Lambda's asynchronous retries retry it."""
    _record({"event": event})
    if POISON in json.dumps(event.get("detail")):
        raise ValueError(f"poison event {event.get('id')}")


def api(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An API function that answers with the proxy event it got, and what its container has seen."""
    global _invocations
    _invocations += 1
    _record({"event": event})
    asked = event.get("queryStringParameters") or {}
    if "sleep" in asked:
        time.sleep(float(asked["sleep"]))
    if "describe_table" in asked:  # AWS calls through the container's own client, as handlers make them
        from ordering import bootstrap

        for _ in range(int(asked["describe_table"])):
            bootstrap.aws_client("dynamodb").describe_table(TableName=os.environ["TABLE_NAME"])
    body = {
        "event": event,
        "pid": os.getpid(),
        "invocations_in_this_container": _invocations,
        "environment": dict(os.environ),
        "remaining_ms": context.get_remaining_time_in_millis(),
        "request_id": context.aws_request_id,
    }
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def cognito(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A post-confirmation trigger: Cognito needs the event back."""
    _record({"event": event})
    return event


def any_function(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Records the event; `{"metric": NAME}` prints it as Powertools' EMF line, `{"fail": ...}` raises."""
    _record({"event": event})
    if "metric" in event:
        from aws_lambda_powertools import Metrics
        from aws_lambda_powertools.metrics import MetricUnit

        metrics = Metrics(namespace=event.get("namespace", "orders"), service="orders")
        metrics.add_metric(name=event["metric"], unit=MetricUnit.Count, value=event.get("value", 1))
        metrics.flush_metrics()
    if "fail" in event:
        raise ValueError(event["fail"])
    return {}
