"""EventBridge rule targets: events from a target's delivery queue to its function.

In moto, each rule's target is a delivery queue (resources.py); this pump reads it and
invokes the target's function with the EventBridge event, one event per invocation as
EventBridge does. A failed invocation is retried with the target's retry policy, the state
kept in SQS itself (the receive count, the message's visibility): after
`maximum_retry_attempts` retries, or once the event is older than
`maximum_event_age_seconds`, the event goes to the target's dead-letter queue with the
attributes EventBridge adds there (RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE,
EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from infra.emulator import logs
from infra.emulator.background import Background
from infra.emulator.functions import Invocation
from infra.emulator.resources import RuleTargetQueue
from infra.emulator.retry import backoff

Invoke = Callable[[str, dict[str, Any]], Invocation]
LONG_POLL_SECONDS = 1


EVENT_FIELDS = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")


def eventbridge_event(message_body: str, *, account_id: str) -> dict[str, Any] | None:
    """The event as EventBridge hands it to a Lambda target: AWS's fields, in AWS's order, and
    nothing of moto's own (moto leaves out `account` and adds `ingestion-time`)."""
    try:
        event = json.loads(message_body)
    except ValueError:
        return None
    if not isinstance(event, dict):
        return None
    event.setdefault("version", "0")
    event.setdefault("account", account_id)
    return {name: event.get(name) for name in EVENT_FIELDS}


class RulePump(Background):
    def __init__(
        self,
        target: RuleTargetQueue,
        *,
        sqs: Any,
        invoke: Invoke,
        function_arn: str,
        retry_delay: float,
        poller: int = 0,
    ) -> None:
        self.target = target
        self.sqs, self.invoke = sqs, invoke
        self.function_arn = function_arn
        self.retry_delay = retry_delay
        super().__init__(name=f"rule-{target.rule}-{target.function}-{poller}")

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                answer = self.sqs.receive_message(
                    QueueUrl=self.target.delivery_queue_url,
                    MaxNumberOfMessages=1,  # one event per invocation; pollers give the concurrency
                    WaitTimeSeconds=LONG_POLL_SECONDS,
                    AttributeNames=["All"],
                )
                messages = answer.get("Messages", [])
                self._busy = bool(messages)
                for message in messages:
                    if self._stopping.is_set():
                        break
                    self._deliver(message)
            except Exception as error:
                logs.log(
                    "eventbridge", "polling failed", level="WARNING", rule=self.target.rule, error=repr(error)
                )
                self._stopping.wait(1)
            finally:
                self._busy = False

    def _deliver(self, message: dict[str, Any]) -> None:
        event = eventbridge_event(message["Body"], account_id=self.target.rule_arn.split(":")[4])
        invocation = self.invoke(self.target.function, event) if event is not None else None
        if invocation is not None and invocation.ok:
            self._delete(message)
            return
        attempts = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        error = (
            {"errorType": "InvalidEvent", "errorMessage": "the delivery queue held something not JSON"}
            if invocation is None
            else invocation.error or {}
        )
        if self._too_old(event) or attempts > self.target.maximum_retry_attempts:
            condition = "MaximumEventAgeExceeded" if self._too_old(event) else "MaximumRetryAttemptsExhausted"
            body = json.dumps(event) if event is not None else message["Body"]
            self._dead_letter(message, body, error, condition, retries=attempts - 1)
            return
        delay = int(backoff(self.retry_delay, attempts))
        logs.log(
            "eventbridge",
            "delivery failed; retrying",
            level="WARNING",
            rule=self.target.rule,
            function=self.target.function,
            attempt=attempts,
            retry_in_seconds=delay,
            event_id=(event or {}).get("id"),
        )
        self.sqs.change_message_visibility(
            QueueUrl=self.target.delivery_queue_url,
            ReceiptHandle=message["ReceiptHandle"],
            VisibilityTimeout=delay,
        )

    def _too_old(self, event: dict[str, Any] | None) -> bool:
        try:
            sent = datetime.fromisoformat(str((event or {})["time"]).replace("Z", "+00:00"))
        except (KeyError, ValueError):
            return False
        if sent.tzinfo is None:
            sent = sent.replace(tzinfo=UTC)
        return (datetime.now(UTC) - sent).total_seconds() > self.target.maximum_event_age_seconds

    def _dead_letter(
        self, message: dict[str, Any], body: str, error: dict[str, Any], condition: str, retries: int
    ) -> None:
        def text(value: str) -> dict[str, str]:
            return {"DataType": "String", "StringValue": value[:1024] or "-"}

        self.sqs.send_message(
            QueueUrl=self.target.dead_letter_url,
            MessageBody=body,
            MessageAttributes={
                "RULE_ARN": text(self.target.rule_arn),
                "TARGET_ARN": text(self.function_arn),
                "ERROR_CODE": text(str(error.get("errorType") or "Unhandled")),
                "ERROR_MESSAGE": text(str(error.get("errorMessage") or "")),
                "EXHAUSTED_RETRY_CONDITION": text(condition),
                "RETRY_ATTEMPTS": {"DataType": "Number", "StringValue": str(retries)},
            },
        )
        self._delete(message)
        logs.log(
            "eventbridge",
            "event sent to the dead-letter queue",
            level="ERROR",
            rule=self.target.rule,
            function=self.target.function,
            condition=condition,
            retries=retries,
        )

    def _delete(self, message: dict[str, Any]) -> None:
        self.sqs.delete_message(
            QueueUrl=self.target.delivery_queue_url, ReceiptHandle=message["ReceiptHandle"]
        )
