"""Deletes of one queue's received messages, gathered into DeleteMessageBatch calls.

A pump that has finished with a message must delete it before its visibility timeout, not at
once: each message's delete waits up to `gather_seconds` for others to share its call (up to
SQS's 10 per call), so a steady trickle of single deliveries costs a delete per batch, not
one per message. Lambda's own SQS poller deletes in batches the same way. The gathering
must stay far inside the queue's visibility timeout (30 s and more here), or a message would
come back before its delete.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

MAX_PER_CALL = 10  # SQS's most per DeleteMessageBatch
OnFailed = Callable[[dict[str, Any]], None]


def delete_batch(sqs: Any, queue_url: str, receipt_handles: list[str]) -> list[dict[str, Any]]:
    """One DeleteMessageBatch of at most MAX_PER_CALL handles; the entries SQS could not delete."""
    if not receipt_handles:
        return []
    answer = sqs.delete_message_batch(
        QueueUrl=queue_url,
        Entries=[{"Id": str(n), "ReceiptHandle": handle} for n, handle in enumerate(receipt_handles)],
    )
    return list(answer.get("Failed", []))


class DeleteBatcher:
    def __init__(
        self, sqs: Any, queue_url: str, *, gather_seconds: float, on_failed: OnFailed, name: str
    ) -> None:
        self.sqs, self.queue_url, self.gather_seconds = sqs, queue_url, gather_seconds
        self.on_failed = on_failed
        self._pending: list[str] = []
        self._oldest: float | None = None  # when the first pending handle came
        self._closed = False
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"{name}-deletes")
        self._thread.start()

    @property
    def pending(self) -> int:
        with self._wake:
            return len(self._pending)

    def add(self, receipt_handles: list[str]) -> None:
        """Delete these soon; at once when they fill a call."""
        if not receipt_handles:
            return
        with self._wake:
            if self._oldest is None:
                self._oldest = time.monotonic()
            self._pending += receipt_handles
            self._wake.notify()

    def close(self) -> None:
        """Delete everything pending now, and stop."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._due():
                    if self._closed:
                        break
                    wait = (
                        None
                        if self._oldest is None
                        else self._oldest + self.gather_seconds - time.monotonic()
                    )
                    self._wake.wait(wait)
                taken, self._pending = self._pending[:MAX_PER_CALL], self._pending[MAX_PER_CALL:]
                if not self._pending:
                    self._oldest = None
                finished = self._closed and not self._pending
            self._delete(taken)
            if finished:
                return

    def _due(self) -> bool:
        if len(self._pending) >= MAX_PER_CALL:
            return True
        return self._oldest is not None and time.monotonic() - self._oldest >= self.gather_seconds

    def _delete(self, handles: list[str]) -> None:
        try:
            not_deleted = delete_batch(self.sqs, self.queue_url, handles)
        except Exception as error:  # the messages come back after their visibility timeout
            self.on_failed({"error": repr(error), "messages": len(handles)})
            return
        for failed in not_deleted:
            self.on_failed(failed)
