"""The `orders` commands a person types, as subprocesses: token and seed against the shared
`orders dev`, and `orders demo`, which starts a system of its own."""

from __future__ import annotations

import json
import subprocess

import jwt
import pytest

from infra.dev.catalog import CATALOG
from tests.e2e.conftest import ORDERS, ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("e2e")]


def orders(*arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ORDERS), *arguments], capture_output=True, text=True, check=check, cwd=ROOT)


def test_orders_token_prints_an_id_token_of_the_local_pool(orders_dev):
    state = ["--state-file", str(orders_dev.state_file)]
    customer = jwt.decode(
        orders("token", "cli-customer", *state).stdout.strip(), options={"verify_signature": False}
    )
    admin = jwt.decode(
        orders("token", "cli-admin", "--admin", *state).stdout.strip(), options={"verify_signature": False}
    )
    assert customer["token_use"] == admin["token_use"] == "id"
    assert customer["email"] == "cli-customer@example.com"
    assert "cognito:groups" not in customer
    assert admin["cognito:groups"] == ["admin"]
    assert customer["aud"] == orders_dev.client.resources.app_client_id


def test_orders_seed_puts_the_catalog_in_through_the_api(orders_dev):
    printed = orders("seed", "--state-file", str(orders_dev.state_file)).stdout.splitlines()
    items = [json.loads(line) for line in printed]
    assert [item["sku"] for item in items] == [product.sku for product in CATALOG]
    assert all(item["available"] >= product.quantity for item, product in zip(items, CATALOG, strict=True))
    assert [item["price"] for item in items] == [product.price for product in CATALOG]


def test_orders_replay_rebuilds_the_read_model_of_the_running_system(orders_dev, shop):
    customer = shop.customer("replayer")
    shop.restock("REPLAY-01", 5, "3.00")
    placed = shop.place(customer, {"REPLAY-01": 2})
    assert placed.status_code == 202, placed.text
    shop.wait_for_status(customer, placed.json()["order_id"])
    state = ["--state-file", str(orders_dev.state_file)]
    rebuilt = orders("replay", *state).stdout
    assert "swapped in" in rebuilt
    dry_run = orders("replay", "--dry-run", *state).stdout
    assert "dry run: nothing swapped; no differences" in dry_run
    assert "inventory" in dry_run


def test_the_commands_say_plainly_when_no_orders_dev_is_running(tmp_path):
    answer = orders("token", "nobody", "--state-file", str(tmp_path / "none.json"), check=False)
    assert answer.returncode != 0
    assert "orders dev" in answer.stderr


def test_orders_demo_runs_a_day_of_business_and_every_expectation_holds(tmp_path):
    answer = subprocess.run([str(ORDERS), "demo"], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert answer.returncode == 0, answer.stdout[-4000:] + answer.stderr[-2000:]
    assert "All expectations held." in answer.stdout
    assert "✗" not in answer.stdout
