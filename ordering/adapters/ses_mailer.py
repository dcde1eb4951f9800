"""The Mailer port on Amazon SES (API v2).

The message is sent as raw MIME so that it can carry the request's correlation id in an
`X-Correlation-Id` header: whoever reads the mail's source, or SES's event records, can follow
it back to the API request that caused it. The sender must be a verified SES identity (in the
SES sandbox, so must every recipient). Any SES or network error becomes a MailerError, so that
the caller's trigger is retried and finally dead-lettered.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from typing import Any

from ordering.ports.mailer import Email, Mailer, MailerError


class SesMailer(Mailer):
    def __init__(
        self,
        *,
        sender: str,
        region: str | None = None,
        endpoint_url: str | None = None,
        client: Any | None = None,
    ) -> None:
        self.sender = sender
        self._region, self._endpoint_url = region, endpoint_url
        self._client = client  # when not given, created on the first send: importing botocore is not free

    def send(self, email: Email) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._ses().send_email(
                FromEmailAddress=self.sender,
                Content={"Raw": {"Data": self.mime(email)}},
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "unknown")
            raise MailerError(f"SES refused the e-mail to {email.to} ({code}): {error}") from error
        except BotoCoreError as error:
            raise MailerError(f"SES could not be reached for the e-mail to {email.to}: {error}") from error
        return str(response["MessageId"])

    def mime(self, email: Email) -> bytes:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = email.to
        message["Subject"] = email.subject
        message["Date"] = formatdate(usegmt=True)
        message["X-Correlation-Id"] = email.correlation_id
        # Quoted-printable keeps the message 7-bit clean, so no relay can mangle non-ASCII text.
        message.set_content(email.text, cte="quoted-printable")
        return message.as_bytes(policy=SMTP)

    def _ses(self) -> Any:
        if self._client is None:
            from ordering.adapters import aws_clients

            self._client = aws_clients.client("sesv2", region=self._region, endpoint_url=self._endpoint_url)
        return self._client
