"""The environment contract, written once in ordering/config.py and read by both interpreters."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import get_args

import pytest

from handlers import http
from infra import topology
from infra.emulator import gateway
from ordering.config import RESOURCE_SETTINGS, Settings, variables

ROOT = Path(__file__).resolve().parents[2]


def test_every_resource_of_the_topology_has_its_settings_and_every_setting_exists():
    assert set(RESOURCE_SETTINGS) == set(get_args(topology.Resource))
    names = {field for field in Settings.__dataclass_fields__}
    for resource, settings in RESOURCE_SETTINGS.items():
        assert settings <= names, resource


def test_variables_name_each_setting_in_capitals_and_refuse_another_resource_s():
    assert variables("table", table_name="orders") == {"TABLE_NAME": "orders"}
    with pytest.raises(ValueError, match="payment_queue_url"):
        variables("table", table_name="orders", payment_queue_url="q")


def test_the_environment_is_read_by_the_same_names_with_the_defaults_written_once():
    settings = Settings.from_env(
        {
            "TABLE_NAME": "orders",
            "DB_PORT": "6432",
            "DB_IAM_AUTH": "TRUE",
            "FAKE_PAYMENT_DECLINE_ABOVE": "100.00",
            "STRIPE_TIMEOUT_SECONDS": "2.5",
            "PAYMENT_GATEWAY": "  ",
            "AWS_DEFAULT_REGION": "eu-west-1",
        }
    )
    assert settings.table_name == "orders"
    assert (settings.db_port, settings.db_iam_auth) == (6432, True)
    assert settings.fake_payment_decline_above == Decimal("100.00")
    assert settings.stripe_timeout_seconds == 2.5
    assert settings.payment_gateway == "fake"  # blank: the default
    assert settings.aws_region == "eu-west-1"
    assert Settings.from_env({}) == Settings()


def test_the_correlation_id_pattern_is_the_schema_s_in_handlers_and_the_local_gateway():
    schema = json.loads((ROOT / "model" / "common.json").read_text(encoding="utf-8"))
    pattern = schema["$defs"]["correlation_id"]["pattern"]
    assert http.CORRELATION_ID.pattern == gateway.CORRELATION_ID.pattern == pattern
