"""What moto's SES accepted, read back as e-mails (moto keeps sent messages in its backend)."""

from __future__ import annotations

import email
from dataclasses import dataclass
from email import policy

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses import ses_backends


@dataclass(frozen=True)
class SentMail:
    message_id: str
    sender: str
    to: str
    subject: str
    text: str
    correlation_id: str | None


def ses_outbox(region: str = "eu-west-1") -> list[SentMail]:
    """Every raw message SES (v1 or v2, they share a backend in moto) accepted, oldest first."""
    sent = []
    for message in ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages:
        parsed = email.message_from_string(message.raw_data, policy=policy.default)
        body = parsed.get_body(preferencelist=("plain",))
        sent.append(
            SentMail(
                message_id=message.id,
                sender=str(parsed["From"]),
                to=str(parsed["To"]),
                subject=str(parsed["Subject"]),
                # On the wire, lines end in CRLF; a mail client shows them as plain line ends.
                text=body.get_content().replace("\r\n", "\n") if body is not None else "",
                correlation_id=parsed["X-Correlation-Id"],
            )
        )
    return sent
