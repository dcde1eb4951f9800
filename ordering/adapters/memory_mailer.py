"""A mailer that keeps what it sends, for tests and benchmarks."""

from __future__ import annotations

import threading

from ordering.ports.mailer import Email, Mailer


class InMemoryMailer(Mailer):
    def __init__(self) -> None:
        self.sent: list[tuple[str, Email]] = []
        self._lock = threading.Lock()

    def send(self, email: Email) -> str:
        with self._lock:
            message_id = f"memory-{len(self.sent) + 1}"
            self.sent.append((message_id, email))
        return message_id
