"""One contract for every Mailer adapter: in memory, and SES (API v2) on moto."""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from ordering.adapters.memory_mailer import InMemoryMailer
from ordering.adapters.ses_mailer import SesMailer
from ordering.ports.mailer import Email, Mailer, MailerError
from tests.support.ses_outbox import ses_outbox

pytestmark = pytest.mark.moto

SENDER = "orders@shop.example.com"
MAILERS = ["memory", "ses"]


@dataclass
class Delivered:
    """What a recipient would see, whichever adapter sent it."""

    message_id: str
    to: str
    subject: str
    text: str
    correlation_id: str | None


class Backend(abc.ABC):
    mailer: Mailer

    @abc.abstractmethod
    def delivered(self) -> list[Delivered]:
        """What recipients would see, in the order it was sent."""


class MemoryBackend(Backend):
    def __init__(self) -> None:
        self.mailer = InMemoryMailer()

    def delivered(self) -> list[Delivered]:
        return [Delivered(i, e.to, e.subject, e.text, e.correlation_id) for i, e in self.mailer.sent]


class SesBackend(Backend):
    def __init__(self) -> None:
        self.mailer = SesMailer(sender=SENDER, region="eu-west-1")

    def delivered(self) -> list[Delivered]:
        return [Delivered(s.message_id, s.to, s.subject, s.text, s.correlation_id) for s in ses_outbox()]


@contextlib.contextmanager
def backend_of(kind: str) -> Iterator[Backend]:
    if kind == "memory":
        yield MemoryBackend()
        return
    with mock_aws():
        boto3.client("sesv2", region_name="eu-west-1").create_email_identity(EmailIdentity=SENDER)
        yield SesBackend()


@pytest.fixture(params=MAILERS)
def backend(request) -> Iterator[Backend]:
    with backend_of(request.param) as backend:
        yield backend


def email(
    to="ada@example.com", subject="Your order 1a2b3c4d is confirmed", text="Thank you.\n", cid="corr-1"
):
    return Email(to=to, subject=subject, text=text, correlation_id=cid)


def test_a_sent_email_arrives_as_written_with_its_correlation_id(backend):
    text = "Thank you for your order.\n\n  MUG-01     2 x       7.50  =      15.00 EUR\n"
    message_id = backend.mailer.send(email(text=text, cid="checkout-2026-11-27-0001"))

    [delivered] = backend.delivered()
    assert delivered.message_id == message_id
    assert message_id
    assert delivered.to == "ada@example.com"
    assert delivered.subject == "Your order 1a2b3c4d is confirmed"
    assert delivered.text == text
    assert delivered.correlation_id == "checkout-2026-11-27-0001"


def test_each_email_gets_its_own_message_id(backend):
    first = backend.mailer.send(email(to="ada@example.com"))
    second = backend.mailer.send(email(to="bob@example.net"))
    assert first != second
    assert [d.to for d in backend.delivered()] == ["ada@example.com", "bob@example.net"]


def test_text_beyond_ascii_survives(backend):
    backend.mailer.send(email(subject="Votre commande — confirmée", text="Merci, Zoë! Total: 12,30 €\n"))
    [delivered] = backend.delivered()
    assert delivered.subject == "Votre commande — confirmée"
    assert delivered.text == "Merci, Zoë! Total: 12,30 €\n"


# --- SES only: its errors become MailerError ----------------------------------------------------


def test_ses_refusing_an_unverified_sender_is_a_mailer_error():
    with mock_aws():
        mailer = SesMailer(sender="nobody@unverified.example.org", region="eu-west-1")
        with pytest.raises(MailerError, match="MessageRejected"):
            mailer.send(email())
        assert ses_outbox() == []


def test_ses_out_of_reach_is_a_mailer_error():
    nowhere = boto3.client(
        "sesv2",
        region_name="eu-west-1",
        endpoint_url="http://127.0.0.1:9",  # nothing listens there
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=2),
    )
    mailer = SesMailer(sender=SENDER, client=nowhere)
    with pytest.raises(MailerError, match="could not be reached"):
        mailer.send(email())
