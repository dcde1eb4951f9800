"""Every setting the functions read from their environment, read in this one place.

The names are the contract with infra/topology.py, which sets them per function for both the
CDK app and the local runtime. Missing required settings fail at first use with the name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal


class MissingSetting(RuntimeError):
    def __init__(self, name: str) -> None:
        super().__init__(f"environment variable {name} is not set")


@dataclass(frozen=True)
class Settings:
    table_name: str | None = None
    # Set only in the local runtime: where moto listens. boto3 reads AWS_ENDPOINT_URL itself;
    # pynamodb needs it passed as its host.
    aws_endpoint_url: str | None = None
    aws_region: str | None = None
    payment_queue_url: str | None = None
    event_bus_name: str | None = None
    sender_email: str | None = None
    # Postgres: DATABASE_URL (local), or host/port/name/user with an IAM token (RDS Proxy).
    database_url: str | None = None
    db_host: str | None = None
    db_port: int = 5432
    db_name: str | None = None
    db_user: str | None = None
    db_iam_auth: bool = False
    db_sslmode: str = "require"
    db_secret_arn: str | None = None
    # The schema the live read model is in; replay builds beside it and swaps by renaming.
    read_model_schema: str = "read_model"
    # Payments: "fake" (the default) or "stripe".
    payment_gateway: str = "fake"
    stripe_api_key: str | None = None
    stripe_secret_arn: str | None = None
    stripe_api_base: str | None = None
    # This service has no checkout: every charge uses this payment method (Stripe's test card by default).
    stripe_payment_method: str = "pm_card_visa"
    stripe_timeout_seconds: float = 10.0
    fake_payment_decline_above: Decimal | None = None
    fake_payment_decline_tag: str = "decline"
    fake_payment_timeout_tag: str = "timeout"
    idempotency_ttl_seconds: int = 3600
    place_order_max_attempts: int = 16
    # Lambda's AWS_LAMBDA_INITIALIZATION_TYPE: "snap-start" while it inits a version to snapshot.
    initialization_type: str = "on-demand"
    # Lambda's _X_AMZN_TRACE_ID: this invocation's X-Ray trace header (set anew per invocation,
    # so read by `trace_header()`, never cached in Settings).

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def text(name: str, default: str | None = None) -> str | None:
            value = env.get(name, "").strip()
            return value or default

        def number(name: str, default: int) -> int:
            value = text(name)
            return int(value) if value else default

        decline_above = text("FAKE_PAYMENT_DECLINE_ABOVE")
        return cls(
            table_name=text("TABLE_NAME"),
            aws_endpoint_url=text("AWS_ENDPOINT_URL"),
            aws_region=text("AWS_REGION", text("AWS_DEFAULT_REGION")),
            payment_queue_url=text("PAYMENT_QUEUE_URL"),
            event_bus_name=text("EVENT_BUS_NAME"),
            sender_email=text("SENDER_EMAIL"),
            database_url=text("DATABASE_URL"),
            db_host=text("DB_HOST"),
            db_port=number("DB_PORT", 5432),
            db_name=text("DB_NAME"),
            db_user=text("DB_USER"),
            db_iam_auth=(text("DB_IAM_AUTH", "false") or "").lower() == "true",
            db_sslmode=text("DB_SSLMODE", "require") or "require",
            db_secret_arn=text("DB_SECRET_ARN"),
            read_model_schema=text("READ_MODEL_SCHEMA", "read_model") or "read_model",
            payment_gateway=text("PAYMENT_GATEWAY", "fake") or "fake",
            stripe_api_key=text("STRIPE_API_KEY"),
            stripe_secret_arn=text("STRIPE_SECRET_ARN"),
            stripe_api_base=text("STRIPE_API_BASE"),
            stripe_payment_method=text("STRIPE_PAYMENT_METHOD", "pm_card_visa") or "pm_card_visa",
            stripe_timeout_seconds=float(text("STRIPE_TIMEOUT_SECONDS") or 10.0),
            fake_payment_decline_above=Decimal(decline_above) if decline_above else None,
            fake_payment_decline_tag=text("FAKE_PAYMENT_DECLINE_TAG", "decline") or "",
            fake_payment_timeout_tag=text("FAKE_PAYMENT_TIMEOUT_TAG", "timeout") or "",
            idempotency_ttl_seconds=number("IDEMPOTENCY_TTL_SECONDS", 3600),
            place_order_max_attempts=number("PLACE_ORDER_MAX_ATTEMPTS", 16),
            initialization_type=text("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand") or "on-demand",
        )

    @property
    def taking_snapshot(self) -> bool:
        """Lambda is initialising a SnapStart version: work done now is paid once, not per cold start."""
        return self.initialization_type == "snap-start"

    def require(self, name: str) -> str:
        """A setting that must be present for the caller to work, e.g. require("table_name")."""
        value = getattr(self, name)
        if not value:
            raise MissingSetting(name.upper())
        return str(value)


def trace_header() -> str | None:
    """The X-Ray trace header of the current invocation (Lambda sets it per invocation), if any."""
    return os.environ.get("_X_AMZN_TRACE_ID") or None
