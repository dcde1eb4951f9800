"""The composition root: which adapter backs each port, built once per container and lazily.

Handlers ask here for what they need; nothing is created at import time, so a function pays
only for the clients it uses, and only on first use. Every AWS client comes from the one
botocore session of ordering/adapters/aws_clients.py: one client per service per container.
Tests replace a dependency with `override(...)` and undo it with `reset()`, and otherwise go
through this same wiring.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from ordering.adapters import aws_clients
from ordering.config import Settings, trace_header

if TYPE_CHECKING:  # the ports too: a function imports only the ports it uses, with their adapters
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

    from ordering.adapters.postgres_connection import Connect, PostgresConnection
    from ordering.ports.event_store import EventStore
    from ordering.ports.leases import Leases
    from ordering.ports.mailer import Mailer
    from ordering.ports.payment_gateway import PaymentGateway
    from ordering.ports.publisher import Publisher
    from ordering.ports.read_model import ReadModel, Rebuilds
    from ordering.services.shard_spans import ShardSpans

T = TypeVar("T")
_instances: dict[str, Any] = {}
_lock = threading.RLock()  # re-entrant: building one instance may build another (settings) first


def _once(name: str, build: Callable[[], T]) -> T:
    if name not in _instances:
        with _lock:
            if name not in _instances:
                _instances[name] = build()
    return _instances[name]


# What override() may replace: each dependency built here, and the idempotency layer of each
# step a handler runs once per key (handlers/once.py names a step by its module and name).
DEPENDENCIES = frozenset(
    {"settings", "event_store", "leases", "payment_gateway", "mailer", "postgres_connect", "postgres"}
    | {"read_model", "rebuilds", "publisher", "clock"}
)
IDEMPOTENT_STEPS = frozenset(
    {
        "handlers.place_order.accept_order",
        "handlers.cancel_order.cancel_once",
    }
)


def override(**instances: Any) -> None:
    """Use these instead of building them, e.g. override(event_store=InMemoryEventStore()).

    A name that is not built here is refused, so that a rename cannot silently stop an override."""
    known = DEPENDENCIES | {f"idempotency:{step}" for step in IDEMPOTENT_STEPS}
    unknown = sorted(set(instances) - known)
    if unknown:
        raise KeyError(f"bootstrap builds no {', '.join(unknown)}; it builds {', '.join(sorted(known))}")
    _instances.update(instances)


def reset() -> None:
    """Forget every instance (a new container), so that the next use builds from the environment."""
    _instances.clear()
    aws_clients.forget()


def after_restore() -> None:
    """A sandbox restored from a SnapStart snapshot: close a Postgres connection opened before it.

    The socket belongs to the sandbox that was snapshotted; the next use opens a fresh one
    (with a fresh IAM token). Clients are kept: botocore refreshes their credentials.
    """
    connection = _instances.get("postgres")
    if connection is not None:
        connection.close()


def aws_client(service: str) -> Any:
    """The container's one client for an AWS service, in the configured region and endpoint."""
    config = settings()
    return aws_clients.client(service, region=config.aws_region, endpoint_url=config.aws_endpoint_url)


def clock() -> Callable[[], datetime]:
    """What time it is: the wall clock, or a test's."""
    return _once("clock", lambda: lambda: datetime.now(UTC))


def settings() -> Settings:
    return _once("settings", Settings.from_env)


def event_store() -> EventStore:
    def build() -> EventStore:
        from ordering.adapters.dynamodb_event_store import DynamoDBEventStore

        return DynamoDBEventStore(aws_client("dynamodb"), settings().require("table_name"))

    return _once("event_store", build)


def leases() -> Leases:
    """Leases in the event table, on the same client as the event store."""

    def build() -> Leases:
        from ordering.adapters.dynamodb_leases import DynamoDBLeases

        return DynamoDBLeases(aws_client("dynamodb"), settings().require("table_name"), clock=clock())

    return _once("leases", build)


def shard_spans() -> ShardSpans:
    """The spans of the sharded SKUs this container has read: one read of all their heads."""

    def build() -> ShardSpans:
        from ordering.services.shard_spans import ShardSpans

        return ShardSpans()

    return _once("shard_spans", build)


def payment_gateway() -> PaymentGateway:
    def build() -> PaymentGateway:
        config = settings()
        if config.payment_gateway == "stripe":
            from ordering.adapters.stripe_payment_gateway import StripePaymentGateway

            return StripePaymentGateway.from_settings(config)
        from ordering.adapters.fake_payment_gateway import FakePaymentGateway

        return FakePaymentGateway(
            decline_above=config.fake_payment_decline_above,
            decline_tag=config.fake_payment_decline_tag,
            timeout_tag=config.fake_payment_timeout_tag,
            refund_decline_tag=config.fake_payment_refund_decline_tag,
            refund_timeout_tag=config.fake_payment_refund_timeout_tag,
        )

    return _once("payment_gateway", build)


def mailer() -> Mailer:
    def build() -> Mailer:
        from ordering.adapters.ses_mailer import SesMailer

        config = settings()
        return SesMailer(sender=config.require("sender_email"), client=aws_client("sesv2"))

    return _once("mailer", build)


def idempotency_store(step: str) -> BasePersistenceLayer:
    """Powertools' idempotency records for one guarded step, kept in the event table itself.

    Items: PK "idempotency#<function>", SK "<step>#<hash>", expiring through the table's TTL
    attribute; the stream filter (SK begins with EV#) keeps them away from the consumers. One
    layer per step, because a layer keeps the key and validation paths it was first used with.
    """
    if step not in IDEMPOTENT_STEPS:
        raise KeyError(f"{step} is not a step listed in IDEMPOTENT_STEPS")

    def build() -> BasePersistenceLayer:
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        from ordering.adapters.dynamodb_table import TTL_ATTRIBUTE

        return DynamoDBPersistenceLayer(
            table_name=settings().require("table_name"),
            key_attr="PK",
            sort_key_attr="SK",
            expiry_attr=TTL_ATTRIBUTE,
            boto3_client=aws_client("dynamodb"),  # the same client as the event store's
        )

    return _once(f"idempotency:{step}", build)


def postgres_connect() -> Connect:
    """How to open a Postgres connection (DATABASE_URL, or RDS Proxy with TLS and an IAM token)."""

    def build() -> Connect:
        from ordering.adapters.postgres_connection import connector

        return connector(settings())

    return _once("postgres_connect", build)


def postgres() -> PostgresConnection:
    """The container's one Postgres connection (per thread), reopened when found dead."""

    def build() -> PostgresConnection:
        from ordering.adapters.postgres_connection import PostgresConnection

        return PostgresConnection(postgres_connect())

    return _once("postgres", build)


def read_model() -> ReadModel:
    def build() -> ReadModel:
        from ordering.adapters.postgres_read_model import PostgresReadModel

        return PostgresReadModel(postgres(), settings().read_model_schema)

    return _once("read_model", build)


def rebuilds() -> Rebuilds:
    """Replay's read models beside the live one; each operation opens its own connection."""

    def build() -> Rebuilds:
        from ordering.adapters.postgres_rebuilds import PostgresRebuilds

        return PostgresRebuilds(postgres_connect(), settings().read_model_schema)

    return _once("rebuilds", build)


def publisher() -> Publisher:
    def build() -> Publisher:
        from ordering.adapters.sqs_eventbridge_publisher import SqsEventBridgePublisher

        config = settings()
        return SqsEventBridgePublisher(
            aws_client("sqs"),
            aws_client("events"),
            queue_url=config.require("payment_queue_url"),
            bus_name=config.require("event_bus_name"),
            # Optional here, so that a publisher without them still sends the rest; the
            # topology gives the stream publisher both.
            deadline_queue_url=config.deadline_queue_url,
            refund_queue_url=config.refund_queue_url,
            trace_header=trace_header,
            clock=clock(),
        )

    return _once("publisher", build)
