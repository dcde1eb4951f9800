"""Sending e-mail to customers."""

from __future__ import annotations

import abc
from dataclasses import dataclass


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    correlation_id: str


class MailerError(Exception):
    """The message was not accepted; the caller lets its trigger retry (and then dead-letter)."""


class Mailer(abc.ABC):
    @abc.abstractmethod
    def send(self, email: Email) -> str:
        """Send and return the mail service's message id."""
