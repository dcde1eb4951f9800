"""What moto's SES accepted (it keeps every message instead of sending it), as a mail client
would show it: raw MIME messages decoded to their subject and text. Read in moto's process
(infra/dev/moto_main.py); `orders dev` serves it at `GET /local/emails`."""

from __future__ import annotations

import email
import email.policy
from typing import Any


def sent_emails(ses_backend: Any) -> list[dict[str, Any]]:
    found = []
    for message in list(ses_backend.sent_messages):
        destinations = getattr(message, "destinations", [])
        if isinstance(destinations, dict):
            kinds = ("ToAddresses", "CcAddresses", "BccAddresses")
            destinations = [address for kind in kinds for address in destinations.get(kind, [])]
        subject, body = getattr(message, "subject", ""), getattr(message, "body", "")
        raw = getattr(message, "raw_data", None)
        if raw:
            subject, body = _decoded(raw)
        to = list(destinations)
        found.append({"id": message.id, "source": message.source, "to": to, "subject": subject, "body": body})
    return found


def _decoded(raw: str) -> tuple[str, str]:
    """Subject and text of a raw MIME message (quoted-printable and base64 undone)."""
    message = email.message_from_string(raw, policy=email.policy.default)
    part = message.get_body(preferencelist=("plain", "html"))
    return str(message.get("Subject", "")), part.get_content() if part is not None else ""
