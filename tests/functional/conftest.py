"""Fixtures for driving handlers through the production wiring, against moto.

The handlers build their adapters in ordering.bootstrap from the environment, as in Lambda:
this sets that environment (the table, the sender), creates the table in moto exactly as the
local runtime does, and resets bootstrap around each test, so that each test is a new container.
"""

from __future__ import annotations

import io
import json
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra import topology
from infra.emulator.moto_atomic import make_dynamodb_writes_atomic
from ordering import bootstrap
from ordering.adapters.dynamodb_table import create_table
from ordering.services.restock import restock
from ordering.services.stamp import Cause

# What every function gets in Lambda (service name, metrics namespace, log level). Set before
# the handler modules are imported: Powertools reads them when a Logger or Metrics is created.
for _name, _value in topology.COMMON_ENVIRONMENT.items():
    os.environ.setdefault(_name, _value)

SENDER = "orders@shop.example.com"
CATALOG = {"MUG-01": ("7.50", "EUR"), "TEA-EARL": ("4.20", "EUR"), "CUP-US": ("3.00", "USD")}


@dataclass
class Aws:
    table: str
    region: str = "eu-west-1"


@pytest.fixture
def aws(monkeypatch) -> Iterator[Aws]:
    """moto with the single table and a verified sender; the function's environment pointing at them."""
    make_dynamodb_writes_atomic()
    for name in (
        "AWS_ENDPOINT_URL",
        "PAYMENT_GATEWAY",
        "STRIPE_API_KEY",
        "STRIPE_API_BASE",
        "IDEMPOTENCY_TTL_SECONDS",
    ):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        table = f"orders-{uuid.uuid4().hex[:8]}"
        create_table(boto3.client("dynamodb"), table)
        boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)
        monkeypatch.setenv("TABLE_NAME", table)
        monkeypatch.setenv("SENDER_EMAIL", SENDER)
        bootstrap.reset()
        yield Aws(table)
        bootstrap.reset()


@pytest.fixture
def sqs() -> Iterator[Any]:
    """moto's SQS alone, and a client of it (for the pumps' own tests)."""
    with mock_aws():
        yield boto3.client("sqs", region_name="eu-west-1")


@pytest.fixture
def stocked(aws) -> dict[str, int]:
    """The catalog with 10 units of each SKU, added the way an admin's restock adds them."""
    store = bootstrap.event_store()
    for sku, (price, currency) in CATALOG.items():
        restock(store, sku, 10, Decimal(price), currency, Cause("test-seed"))
    return dict.fromkeys(CATALOG, 10)


class Logs:
    def __init__(self, stream: io.StringIO) -> None:
        self._stream = stream

    @property
    def text(self) -> str:
        return self._stream.getvalue()

    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def clear(self) -> None:
        self._stream.seek(0)
        self._stream.truncate()


@pytest.fixture
def logs() -> Iterator[Logs]:
    """Every line the functions log, as Powertools formats it (one JSON object per line)."""
    from handlers.place_order import logger as powertools_logger

    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(powertools_logger.registered_formatter)
    target = logging.getLogger(powertools_logger.name)
    target.addHandler(capture)
    try:
        yield Logs(stream)
    finally:
        target.removeHandler(capture)


@pytest.fixture
def emitted_metrics(capsys):
    """A function returning every metric printed so far in CloudWatch EMF, as (name, dimensions, value)."""

    def read() -> list[tuple[str, dict[str, str], float]]:
        found = []
        for line in capsys.readouterr().out.splitlines():
            try:
                blob = json.loads(line)
            except ValueError:
                continue
            if not isinstance(blob, dict) or "_aws" not in blob:
                continue
            for directive in blob["_aws"]["CloudWatchMetrics"]:
                dimensions = {name: blob[name] for group in directive["Dimensions"] for name in group}
                for metric in directive["Metrics"]:
                    value = blob[metric["Name"]]
                    for each in value if isinstance(value, list) else [value]:
                        found.append((metric["Name"], dimensions, each))
        return found

    return read
