"""The `orders` commands a person types, as subprocesses: token and seed against the shared
`orders dev`, and `orders demo`, which starts a system of its own."""

from __future__ import annotations

import importlib.metadata
import json
import os
import socket
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


def test_orders_alarms_lists_every_alarm_of_the_topology_with_its_state(orders_dev):
    import json as json_module

    from infra import topology

    answer = orders("alarms", "--json", "--state-file", str(orders_dev.state_file), check=False)
    alarms = [json_module.loads(line) for line in answer.stdout.splitlines()]
    assert {a["name"] for a in alarms} == {a.name for a in topology.alarms()}
    assert {a["state"] for a in alarms} <= {"OK", "ALARM", "INSUFFICIENT_DATA"}
    assert answer.returncode == (1 if any(a["state"] == "ALARM" for a in alarms) else 0), answer.stderr


def test_the_commands_say_plainly_when_no_orders_dev_is_running(tmp_path):
    answer = orders("token", "nobody", "--state-file", str(tmp_path / "none.json"), check=False)
    assert answer.returncode != 0
    assert "orders dev" in answer.stderr


def test_replay_with_no_orders_dev_says_to_start_it_rather_than_asking_for_table_name(tmp_path):
    environment = {k: v for k, v in os.environ.items() if k not in ("TABLE_NAME", "DATABASE_URL")}
    answer = subprocess.run(
        [str(ORDERS), "replay", "--state-file", str(tmp_path / "none.json")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
    )
    assert answer.returncode == 1
    assert "start the system first with `orders dev`" in answer.stderr
    assert "TABLE_NAME" not in answer.stderr
    assert "Traceback" not in answer.stderr


def test_an_aws_profile_that_does_not_exist_is_ignored_by_the_local_commands(tmp_path):
    answer = subprocess.run(
        [str(ORDERS), "token", "ada", "--state-file", str(tmp_path / "none.json")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "AWS_PROFILE": "no-such-profile"},
    )
    assert answer.returncode == 1
    assert "ignoring AWS_PROFILE=no-such-profile" in answer.stderr
    assert "start the system first with `orders dev`" in answer.stderr
    assert "Traceback" not in answer.stderr


def test_a_port_in_use_is_said_at_once_with_the_option_to_choose_another(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        answer = subprocess.run(
            [str(ORDERS), "dev", "--port", str(port), "--state-file", str(tmp_path / "dev.json")],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
    assert answer.returncode == 2
    lines = answer.stderr.strip().splitlines()
    assert len(lines) == 1, answer.stderr
    assert f"port {port} on 127.0.0.1 is in use" in lines[0]
    assert f"orders dev --port {port + 1}" in lines[0]
    assert not (tmp_path / "dev.json").exists()


def every_command(group=None, prefix=()):
    from cli.main import main

    group = group or main
    for name, command in group.commands.items():
        yield (*prefix, name)
        if hasattr(command, "commands"):
            yield from every_command(command, (*prefix, name))


@pytest.mark.parametrize("command", [(), *every_command()], ids=lambda c: " ".join(c) or "orders")
def test_every_command_has_version(command):
    from click.testing import CliRunner

    from cli.main import main

    answer = CliRunner().invoke(main, [*command, "--version"])
    assert answer.exit_code == 0, answer.output
    assert answer.output == f"orders {importlib.metadata.version('orders')}\n"


def test_orders_demo_runs_a_day_of_business_and_every_expectation_holds(tmp_path):
    answer = subprocess.run([str(ORDERS), "demo"], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert answer.returncode == 0, answer.stdout[-4000:] + answer.stderr[-2000:]
    assert "All expectations held." in answer.stdout
    assert "✗" not in answer.stdout
