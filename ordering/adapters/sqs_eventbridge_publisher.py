"""The publisher on SQS (payment requests, payment deadlines, refunds) and EventBridge (payment
outcomes, cancellations), with boto3.

Both APIs take at most 10 entries a call and may fail some entries while accepting the rest:
only the failed entries are sent again, a bounded number of times with a growing pause. An
entry the service blames on us (SenderFault: too large, malformed) is not resent. What still
fails is returned, for the stream consumer to report and have Lambda retry.

Each message and bus event carries the X-Ray trace header of the invocation publishing it
(SQS's `AWSTraceHeader` system attribute, PutEvents' `TraceHeader`), so that the consumer's
invocation joins the publisher's trace instead of starting one of its own.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ordering.domain.recorded import Recorded, to_envelope
from ordering.messaging import (
    CORRELATION_ID_ATTRIBUTE,
    DETAIL_TYPES,
    EVENT_ID_ATTRIBUTE,
    EVENT_SOURCE,
    TO_DEADLINE_QUEUE,
    TO_EVENT_BUS,
    TO_PAYMENT_QUEUE,
    TO_REFUND_QUEUE,
)
from ordering.ports.publisher import Publisher, deadline_delay

logger = logging.getLogger(__name__)
MAX_ENTRIES = 10  # SendMessageBatch and PutEvents alike
TRACE_ATTRIBUTE = "AWSTraceHeader"  # the SQS system attribute Lambda reads a message's trace from


class SqsEventBridgePublisher(Publisher):
    def __init__(
        self,
        sqs: Any,
        events: Any,
        *,
        queue_url: str,
        bus_name: str,
        deadline_queue_url: str | None = None,
        refund_queue_url: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        attempts: int = 3,
        backoff_seconds: float = 0.1,
        sleep: Callable[[float], None] = time.sleep,
        trace_header: Callable[[], str | None] = lambda: None,
    ) -> None:
        """`trace_header`: the current invocation's X-Ray trace header (it changes per invocation)."""
        self._sqs, self._events, self._trace_header = sqs, events, trace_header
        self.queue_url, self.bus_name = queue_url, bus_name
        self.deadline_queue_url, self.refund_queue_url, self._clock = (
            deadline_queue_url,
            refund_queue_url,
            clock,
        )
        self.attempts, self.backoff_seconds, self._sleep = attempts, backoff_seconds, sleep

    def to_payment_queue(self, events: Sequence[Recorded]) -> list[Recorded]:
        _check(events, TO_PAYMENT_QUEUE)
        send = partial(self._send_messages, self.queue_url, delayed=False)
        return [e for chunk in _chunks(events) for e in self._resending(chunk, send)]

    def to_deadline_queue(self, events: Sequence[Recorded]) -> list[Recorded]:
        _check(events, TO_DEADLINE_QUEUE)
        send = partial(self._send_messages, _required(self.deadline_queue_url, "deadline"), delayed=True)
        return [e for chunk in _chunks(events) for e in self._resending(chunk, send)]

    def to_refund_queue(self, events: Sequence[Recorded]) -> list[Recorded]:
        _check(events, TO_REFUND_QUEUE)
        send = partial(self._send_messages, _required(self.refund_queue_url, "refund"), delayed=False)
        return [e for chunk in _chunks(events) for e in self._resending(chunk, send)]

    def to_event_bus(self, events: Sequence[Recorded]) -> list[Recorded]:
        _check(events, TO_EVENT_BUS)
        return [e for chunk in _chunks(events) for e in self._resending(chunk, self._put_events)]

    # Each call takes {entry id: event} and returns the ids of entries to send again, and of
    # entries not worth sending again.

    def _send_messages(
        self, queue_url: str, pending: dict[str, Recorded], *, delayed: bool
    ) -> tuple[set[str], set[str]]:
        header = self._trace_header()
        traced = {"MessageSystemAttributes": {TRACE_ATTRIBUTE: _string(header)}} if header else {}
        now = self._clock()
        response = self._sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {
                    "Id": entry_id,
                    "MessageBody": json.dumps(to_envelope(event)),
                    "MessageAttributes": {
                        CORRELATION_ID_ATTRIBUTE: _string(event.correlation_id),
                        EVENT_ID_ATTRIBUTE: _string(event.event_id),
                    },
                    **traced,
                    **({"DelaySeconds": deadline_delay(event, now)} if delayed else {}),
                }
                for entry_id, event in pending.items()
            ],
        )
        failed = response.get("Failed", [])
        for entry in failed:
            logger.warning(
                "SQS refused %s: %s %s", pending[entry["Id"]].event_id, entry["Code"], entry.get("Message")
            )
        return (
            {entry["Id"] for entry in failed if not entry.get("SenderFault")},
            {entry["Id"] for entry in failed if entry.get("SenderFault")},
        )

    def _put_events(self, pending: dict[str, Recorded]) -> tuple[set[str], set[str]]:
        ids = list(pending)
        header = self._trace_header()
        traced = {"TraceHeader": header} if header else {}
        response = self._events.put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": DETAIL_TYPES[pending[entry_id].type],
                    "Detail": json.dumps(to_envelope(pending[entry_id])),
                    "EventBusName": self.bus_name,
                    **traced,
                }
                for entry_id in ids
            ]
        )
        retry = set()
        for entry_id, result in zip(ids, response["Entries"], strict=True):
            if "ErrorCode" in result:
                logger.warning(
                    "EventBridge refused %s: %s %s",
                    pending[entry_id].event_id,
                    result["ErrorCode"],
                    result.get("ErrorMessage"),
                )
                retry.add(entry_id)
        return retry, set()

    def _resending(
        self, chunk: Sequence[Recorded], call: Callable[[dict[str, Recorded]], tuple[set[str], set[str]]]
    ) -> list[Recorded]:
        pending = {str(position): event for position, event in enumerate(chunk)}
        given_up: dict[str, Recorded] = {}
        for attempt in range(1, self.attempts + 1):
            try:
                retry, hopeless = call(pending)
            except (ClientError, BotoCoreError) as error:  # the whole call failed: all of it again
                logger.warning("publishing %d events failed: %s", len(pending), error)
                retry, hopeless = set(pending), set()
            # In the order given, so that a resend keeps the order of the first call.
            given_up.update({entry_id: event for entry_id, event in pending.items() if entry_id in hopeless})
            pending = {entry_id: event for entry_id, event in pending.items() if entry_id in retry}
            if not pending:
                break
            if attempt < self.attempts:
                self._sleep(self.backoff_seconds * 2 ** (attempt - 1))
        return [*given_up.values(), *pending.values()]


def _required(url: str | None, name: str) -> str:
    if not url:
        raise ValueError(f"this publisher was given no {name} queue")
    return url


def _string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def _check(events: Sequence[Recorded], allowed: frozenset[str]) -> None:
    wrong = [event.type for event in events if event.type not in allowed]
    if wrong:
        raise ValueError(f"not published this way: {wrong}")


def _chunks(events: Sequence[Recorded]) -> list[Sequence[Recorded]]:
    return [events[start : start + MAX_ENTRIES] for start in range(0, len(events), MAX_ENTRIES)]
