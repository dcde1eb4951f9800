"""EventBridge rule targets: events from a target's delivery queue to its function.

In moto, each rule's target is a delivery queue (resources.py); this pump reads it and
invokes the target's function with the EventBridge event, one event per invocation as
EventBridge does. As on AWS, where a rule invokes a Lambda target asynchronously, two retry
loops with two different owners follow a failure:

  - Lambda refused the invocation (throttled, or the service could not take it): that is a
    failed *delivery*, EventBridge's to retry with the target's retry policy. After
    `maximum_retry_attempts` retries, or once the event is older than
    `maximum_event_age_seconds`, the event goes to the target's dead-letter queue with the
    attributes EventBridge adds (RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE,
    EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS).
  - The function ran and failed (an exception, a timeout, a failed init): EventBridge had
    delivered it, so Lambda's asynchronous invocation retries it, `topology.ASYNC_RETRY_ATTEMPTS`
    times, then sends it to the function's dead-letter queue with Lambda's attributes
    (RequestID, ErrorCode, ErrorMessage). The CDK app makes that the same queue as the target's.

Each message on the delivery queue carries how often each loop has tried it, as message
attributes; a retry is the event put back on the queue with a delay (the local backoff).

A target has one receiver, and as many invocations at once as its function may run containers:
each receive asks for as many events as there are free invocations (up to SQS's 10) and hands
each to an invocation of its own at once; once each event of a batch is done with, its delete
waits up to DELETE_GATHER_SECONDS to share a DeleteMessageBatch with the next batches'
(delete_batcher.py). A busy target so costs a receive per batch and fewer deletes still, not
two requests per event; an idle one, one long poll a second.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from infra import topology
from infra.emulator import logs
from infra.emulator.background import Background
from infra.emulator.delete_batcher import DeleteBatcher, delete_batch
from infra.emulator.functions import Invocation
from infra.emulator.resources import RuleTargetQueue
from infra.emulator.retry import backoff

Invoke = Callable[[str, dict[str, Any]], Invocation]
LONG_POLL_SECONDS = 1
FREE_LOOK_SECONDS = 0.25  # how soon a receiver waiting for a free invocation sees a stop
MAX_MESSAGES_PER_RECEIVE = 10  # SQS's most per ReceiveMessage and per DeleteMessageBatch
GATHER_SECONDS = 0.1  # how long a receiver with some invocations busy waits for more to end
DELETE_GATHER_SECONDS = 0.5  # far inside the delivery queue's visibility timeout (30 s and more)
MAX_DELAY_SECONDS = 900  # SQS's longest message delay
# Lambda's own refusals of an invocation (the local runtime reports them like these).
NOT_DELIVERED = frozenset({"TooManyRequestsException", "ServiceException"})
# How often each loop has retried an event, carried on its message in the delivery queue.
DELIVERY_RETRIES = "eventbridge_retries"
FUNCTION_RETRIES = "lambda_retries"


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
        concurrency: int = 1,
    ) -> None:
        self.target = target
        self.sqs, self.invoke = sqs, invoke
        self.function_arn = function_arn
        self.retry_delay = retry_delay
        self.concurrency = concurrency
        self._free = threading.BoundedSemaphore(concurrency)  # one per invocation that may start
        self._invocations = ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix=f"rule-{target.rule}-{target.function}-invoke"
        )
        self._batches: list[threading.Thread] = []
        self._deletes: DeleteBatcher | None = None  # the running loop's (deliver() deletes at once)
        super().__init__(name=f"rule-{target.rule}-{target.function}")

    @property
    def busy(self) -> bool:
        deleting = self._deletes is not None and self._deletes.pending > 0
        return self._busy or deleting or any(batch.is_alive() for batch in self._batches)

    def _run(self) -> None:
        self._deletes = DeleteBatcher(
            self.sqs,
            self.target.delivery_queue_url,
            gather_seconds=DELETE_GATHER_SECONDS,
            on_failed=self._not_deleted,
            name=self._thread.name,
        )
        while not self._stopping.is_set():
            if not self._hold():
                break
            room = self._room()
            if not room:
                break
            if self.paused:  # paused while it waited for a free invocation: no receive
                self._release(room)
                continue
            try:
                answer = self.sqs.receive_message(
                    QueueUrl=self.target.delivery_queue_url,
                    MaxNumberOfMessages=room,
                    WaitTimeSeconds=LONG_POLL_SECONDS,
                    MessageAttributeNames=[DELIVERY_RETRIES, FUNCTION_RETRIES],
                )
                messages = answer.get("Messages", [])
            except Exception as error:
                messages = []
                logs.log(
                    "eventbridge", "polling failed", level="WARNING", rule=self.target.rule, error=repr(error)
                )
                self._stopping.wait(1)
            self._release(room - len(messages))
            if messages:
                self._busy = True
                self._start_batch(messages)
                self._busy = False
        for batch in self._batches:
            batch.join()
        self._deletes.close()
        self._invocations.shutdown(wait=True)

    def _room(self) -> int:
        """Wait for a free invocation, then take every other one free, up to a receive's 10; 0
        when the loop is to stop. While others are busy, it waits up to GATHER_SECONDS for more
        to end, so that a busy target receives a batch, not one event each time one ends."""
        while not self._free.acquire(timeout=FREE_LOOK_SECONDS):
            if self._stopping.is_set():
                return 0
        room, wanted = 1, min(MAX_MESSAGES_PER_RECEIVE, self.concurrency)
        until = time.monotonic() + GATHER_SECONDS
        while room < wanted and self._free.acquire(timeout=max(0.0, until - time.monotonic())):
            room += 1
        return room

    def _release(self, count: int) -> None:
        for _ in range(count):
            self._free.release()

    def _start_batch(self, messages: list[dict[str, Any]]) -> None:
        """The batch's events delivered at once, one per invocation, on a thread of its own, so
        that the next receive need not wait for the batch's slowest invocation."""
        self._batches = [batch for batch in self._batches if batch.is_alive()]
        batch = threading.Thread(
            target=self._settle_later, args=(messages,), daemon=True, name=self._thread.name
        )
        self._batches.append(batch)
        batch.start()

    def deliver(self, messages: list[dict[str, Any]]) -> None:
        """Each message to its own invocation, concurrently; then one DeleteMessageBatch for
        every message that is done with (delivered, put back for a retry, or dead-lettered). A
        message whose handling raised stays, and comes back after its visibility timeout."""
        self._settle(messages, self._deliver_or_log, self._delete)

    def _settle_later(self, messages: list[dict[str, Any]]) -> None:
        """deliver() in the running loop: the deletes gathered with other batches'."""
        assert self._deletes is not None
        deletes = self._deletes
        self._settle(
            messages, self._deliver_and_free, lambda done: deletes.add([m["ReceiptHandle"] for m in done])
        )

    def _settle(
        self,
        messages: list[dict[str, Any]],
        handle: Callable[[dict[str, Any]], bool],
        delete: Callable[[list[dict[str, Any]]], None],
    ) -> None:
        try:
            done = [
                message
                for message, handled in zip(messages, self._invocations.map(handle, messages), strict=True)
                if handled
            ]
            delete(done)
        except Exception as error:
            logs.log(
                "eventbridge",
                "deleting delivered events failed",
                level="WARNING",
                rule=self.target.rule,
                error=repr(error),
            )

    def _deliver_or_log(self, message: dict[str, Any]) -> bool:
        try:
            self._deliver(message)
        except Exception as error:
            logs.log(
                "eventbridge", "delivery failed", level="WARNING", rule=self.target.rule, error=repr(error)
            )
            return False
        return True

    def _deliver_and_free(self, message: dict[str, Any]) -> bool:
        try:
            return self._deliver_or_log(message)
        finally:
            self._release(1)  # the invocation is over: the next receive may use its place

    def _deliver(self, message: dict[str, Any]) -> None:
        event = eventbridge_event(message["Body"], account_id=self.target.rule_arn.split(":")[4])
        if event is None:  # nothing a function could be given: EventBridge would not deliver it
            error = {
                "errorType": "InvalidEvent",
                "errorMessage": "the delivery queue held something not JSON",
            }
            self._dead_letter(message, message["Body"], error, "MaximumRetryAttemptsExhausted", retries=0)
            return
        invocation = self.invoke(self.target.function, event)
        if invocation.ok:
            return
        error = invocation.error or {}
        tries = {name: _count(message, name) for name in (DELIVERY_RETRIES, FUNCTION_RETRIES)}
        if error.get("errorType") in NOT_DELIVERED:  # EventBridge's retry policy
            retries = tries[DELIVERY_RETRIES]
            if self._too_old(event) or retries >= self.target.maximum_retry_attempts:
                condition = (
                    "MaximumEventAgeExceeded" if self._too_old(event) else "MaximumRetryAttemptsExhausted"
                )
                self._dead_letter(message, json.dumps(event), error, condition, retries=retries)
                return
            self._retry(message, event, tries | {DELIVERY_RETRIES: retries + 1}, "delivery failed")
            return
        retries = tries[FUNCTION_RETRIES]  # Lambda's asynchronous retries
        if retries >= topology.ASYNC_RETRY_ATTEMPTS:
            self._park_function_failure(message, event, invocation.request_id, error)
            return
        self._retry(message, event, tries | {FUNCTION_RETRIES: retries + 1}, "function failed")

    def _retry(self, message: dict[str, Any], event: dict[str, Any], tries: dict[str, int], why: str) -> None:
        attempt = sum(tries.values())
        delay = min(int(backoff(self.retry_delay, attempt)), MAX_DELAY_SECONDS)
        logs.log(
            "eventbridge" if why == "delivery failed" else self.target.function,
            f"{why}; retrying",
            level="WARNING",
            rule=self.target.rule,
            function=self.target.function,
            retries=tries,
            retry_in_seconds=delay,
            event_id=event.get("id"),
        )
        self.sqs.send_message(
            QueueUrl=self.target.delivery_queue_url,
            MessageBody=message["Body"],
            DelaySeconds=delay,
            MessageAttributes={
                name: {"DataType": "Number", "StringValue": str(count)} for name, count in tries.items()
            },
        )

    def _park_function_failure(
        self, message: dict[str, Any], event: dict[str, Any], request_id: str, error: dict[str, Any]
    ) -> None:
        """What Lambda sends to a function's dead-letter queue after its asynchronous retries."""
        self.sqs.send_message(
            QueueUrl=self.target.dead_letter_url,
            MessageBody=json.dumps(event),
            MessageAttributes={
                "RequestID": {"DataType": "String", "StringValue": request_id},
                # The status of the Invoke call, which succeeded: the error is the function's.
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {
                    "DataType": "String",
                    "StringValue": str(error.get("errorMessage") or error.get("errorType") or "Unhandled")[
                        :1024
                    ],
                },
            },
        )
        logs.log(
            self.target.function,
            "event sent to the function's dead-letter queue",
            level="ERROR",
            rule=self.target.rule,
            retries=topology.ASYNC_RETRY_ATTEMPTS,
            error_type=error.get("errorType"),
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
        logs.log(
            "eventbridge",
            "event sent to the dead-letter queue",
            level="ERROR",
            rule=self.target.rule,
            function=self.target.function,
            condition=condition,
            retries=retries,
        )

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        handles = [m["ReceiptHandle"] for m in messages]
        for failed in delete_batch(self.sqs, self.target.delivery_queue_url, handles):
            self._not_deleted(failed)

    def _not_deleted(self, failed: dict[str, Any]) -> None:
        logs.log("eventbridge", "an event was not deleted", level="WARNING", rule=self.target.rule, **failed)


def _count(message: dict[str, Any], name: str) -> int:
    value = message.get("MessageAttributes", {}).get(name, {}).get("StringValue", "0")
    return int(value) if value.isdigit() else 0
