"""Every setting the functions read from their environment, read in this one place.

This module is the environment contract, written once: a setting's variable is its name in
capitals, and RESOURCE_SETTINGS says which settings each resource of infra/topology.py gives a
function that uses it. Both interpreters (the CDK app and the local runtime) only supply the
values, through `variables()`. Missing required settings fail at first use with the name.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal


class MissingSetting(RuntimeError):
    def __init__(self, name: str) -> None:
        super().__init__(f"environment variable {name} is not set")


@dataclass(frozen=True)
class Settings:
    table_name: str | None = None
    # Set only in the local runtime: where moto listens (passed to every client bootstrap makes).
    aws_endpoint_url: str | None = None
    aws_region: str | None = None
    payment_queue_url: str | None = None
    deadline_queue_url: str | None = None
    refund_queue_url: str | None = None
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
    db_sslrootcert: str | None = None  # with verify-ca/verify-full; unset: certifi's bundle
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
    fake_payment_refund_decline_tag: str = "refund-decline"
    fake_payment_refund_timeout_tag: str = "refund-timeout"
    idempotency_ttl_seconds: int = 3600
    # Read-model reconciliation (ordering/services/reconciliation.py): every unfinished order
    # not updated for the settle seconds, this many per page, for at most the budget's seconds
    # per run (the next run goes on); then the orders updated this recently, at most this many.
    reconcile_page_size: int = 1000
    reconcile_settle_seconds: int = 60
    reconcile_budget_seconds: int = 120
    reconcile_window_minutes: int = 360
    reconcile_max_orders: int = 20000
    place_order_max_attempts: int = 16
    # How long a placed order may wait for its payment before it is cancelled (infra/topology.py
    # sets it; `orders dev --payment-deadline` shortens it).
    payment_deadline_seconds: int = 900
    # Lambda's AWS_LAMBDA_INITIALIZATION_TYPE: "snap-start" while it inits a version to snapshot.
    aws_lambda_initialization_type: str = "on-demand"
    # Lambda's _X_AMZN_TRACE_ID: this invocation's X-Ray trace header (set anew per invocation,
    # so read by `trace_header()`, never cached in Settings).

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Each setting from its variable (the field's name in capitals); unset or blank: the default."""
        env = os.environ if environ is None else environ
        found: dict[str, object] = {}
        for setting in fields(cls):
            text = env.get(variable_of(setting.name), "").strip()
            if setting.name == "aws_region" and not text:
                text = env.get("AWS_DEFAULT_REGION", "").strip()
            if text:
                found[setting.name] = PARSERS.get(str(setting.type), str)(text)
        return cls(**found)  # type: ignore[arg-type]

    @property
    def taking_snapshot(self) -> bool:
        """Lambda is initialising a SnapStart version: work done now is paid once, not per cold start."""
        return self.aws_lambda_initialization_type == "snap-start"

    def require(self, name: str) -> str:
        """A setting that must be present for the caller to work, e.g. require("table_name")."""
        value = getattr(self, name)
        if not value:
            raise MissingSetting(variable_of(name))
        return str(value)


# How a variable's text becomes a setting of each type; any other type is text.
PARSERS: dict[str, Callable[[str], object]] = {
    "int": int,
    "float": float,
    "bool": lambda text: text.lower() == "true",
    "Decimal | None": Decimal,
}

# Which settings each resource a function uses (infra/topology.py's Resource) may carry. The
# local runtime reaches the database by URL; AWS through RDS Proxy, with IAM tokens over TLS.
RESOURCE_SETTINGS: dict[str, frozenset[str]] = {
    "table": frozenset({"table_name"}),
    "payment_queue": frozenset({"payment_queue_url"}),
    "deadline_queue": frozenset({"deadline_queue_url"}),
    "refund_queue": frozenset({"refund_queue_url"}),
    "event_bus": frozenset({"event_bus_name"}),
    "mailer": frozenset({"sender_email"}),
    "database": frozenset(
        {
            "database_url",
            "db_host",
            "db_port",
            "db_name",
            "db_user",
            "db_iam_auth",
            "db_sslmode",
            "db_sslrootcert",
        }
    ),
    "payment_gateway": frozenset({"payment_gateway", "stripe_secret_arn"}),
}


def variable_of(setting: str) -> str:
    """The environment variable of a setting: table_name -> TABLE_NAME."""
    return setting.upper()


def variables(resource: str, **values: str) -> dict[str, str]:
    """The environment that gives a function `resource`, e.g. variables("table", table_name="t")
    -> {"TABLE_NAME": "t"}. Refuses a setting the resource does not carry, by name."""
    allowed = RESOURCE_SETTINGS[resource]
    stray = sorted(set(values) - allowed)
    if stray:
        raise ValueError(f"{resource} carries {', '.join(sorted(allowed))}, not {', '.join(stray)}")
    return {variable_of(name): value for name, value in values.items()}


def trace_header() -> str | None:
    """The X-Ray trace header of the current invocation (Lambda sets it per invocation), if any."""
    return os.environ.get("_X_AMZN_TRACE_ID") or None
