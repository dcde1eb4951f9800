"""`orders dev --data-dir`: a customer's orders, the stock and the customer survive a restart.

Two runtimes one after the other on the same data directory, in this process, with the real
functions; everything observed over HTTP and through moto's AWS API.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import jwt
import pytest

from infra.dev import dev_process
from infra.dev.client import DevClient
from infra.dev.runtime import LocalRuntime, Options
from tests.e2e.shop import Customer, Shop, new_sku, order_events

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.moto,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.xdist_group("e2e"),
]


def test_a_data_dir_keeps_the_log_and_the_users_and_rebuilds_the_read_model(tmp_path: Path):
    data_dir = tmp_path / "data"
    options = Options(port=0, data_dir=data_dir, state_file=tmp_path / "dev.json", retry_delay=0.05)
    sku = new_sku()

    first = LocalRuntime(options)
    shop = Shop(DevClient(first.start()))
    try:
        ada = shop.customer("keeper")
        shop.restock(sku, 5, "4.00")
        order_id = shop.place(ada, {sku: 2}).json()["order_id"]
        assert shop.wait_for_status(ada, order_id)["status"] == "FULFILLED"
        assert shop.dev.wait_idle()  # the e-mail too (ConfirmationSent may follow FULFILLED)
        history = shop.events_of(ada, order_id)
    finally:
        first.stop()  # drains the pipeline, then saves
    assert (data_dir / "table.jsonl").exists()
    assert json.loads((data_dir / "users.json").read_text())[0]["attributes"]["email"] == ada.email

    second = LocalRuntime(options)
    shop = Shop(DevClient(second.start()))
    try:
        # The restored log is not streamed again: nothing was delivered to the consumers yet.
        consumers = shop.dev.status()["stream_consumers"]
        assert consumers["projector"]["delivered"] == consumers["publisher"]["delivered"] == 0
        token = shop.dev.token(ada.username, email=ada.email)
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["sub"] == ada.user_id  # the same customer
        assert shop.dev.api("GET", f"/orders/{order_id}", ada.token).status_code == 401  # last run's pool

        again = type(ada)(ada.username, ada.email, token, ada.user_id)
        assert shop.order(again, order_id).json()["status"] == "FULFILLED"  # the read model, rebuilt
        assert shop.events_of(again, order_id) == history
        assert shop.head(sku) == {"available": 3, "reserved": 0, "committed": 2}

        later = shop.place(again, {sku: 3})
        assert later.status_code == 202, later.text
        assert shop.wait_for_status(again, later.json()["order_id"])["status"] == "FULFILLED"
        assert shop.head(sku) == {"available": 0, "reserved": 0, "committed": 5}
        assert shop.dev.wait_idle()  # the e-mail too: notification follows the fulfilment
        assert len(shop.emails_to(ada.email)) == 1  # sent e-mails are not kept; the new order's is here
    finally:
        second.stop(save=False)


# --- a kill, a busy stop ------------------------------------------------------------------------


REDRIVEN = "events in flight at the last stop re-driven"


def _logged(log: Path, message: str) -> list[dict[str, Any]]:
    """The runtime's JSON log lines with this message (stdout is JSON when it is not a terminal)."""
    found = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("message") == message:
            found.append(entry)
    return found


def _postmaster(database_url: str) -> tuple[int, Path]:
    """The embedded server's pid and its data directory (its socket's, in the URL)."""
    pgdata = Path(parse_qs(urlparse(database_url).query)["host"][0])
    return int((pgdata / "postmaster.pid").read_text().splitlines()[0]), pgdata


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/status").read_text().find("State:\tZ") >= 0  # a zombie is gone too


def _eventually(check: Any, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def _start(tmp_path: Path, data_dir: Path, run: int) -> dev_process.DevProcess:
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    return dev_process.start(
        tmp_path / "dev.json",
        tmp_path / f"dev-{run}.log",
        "--data-dir", str(data_dir), "--retry-delay", "0.05", "--redelivery-delay", "1",
        environment=environment,
    )  # fmt: skip


def _again(shop: Shop, customer: Customer) -> Customer:
    """The same customer in a new run: a new token from the restored user pool."""
    return Customer(customer.username, customer.email, shop.dev.token(customer.username), customer.user_id)


def _settled(shop: Shop, customer: Customer, order_ids: list[str]) -> None:
    """Every order FULFILLED, with one confirmation e-mail recorded in its log."""
    for order_id in order_ids:
        assert shop.wait_for_status(customer, order_id, timeout=120)["status"] == "FULFILLED"
    assert shop.dev.wait_idle(120)
    for order_id in order_ids:
        events = order_events(shop, order_id)
        assert events.count("ConfirmationSent") == 1, (order_id, events)
        assert events.count("OrderPlaced") == events.count("OrderFulfilled") == 1, (order_id, events)


def _place(shop: Shop, customer: Customer, sku: str, count: int) -> list[str]:
    accepted = []
    for _ in range(count):
        answer = shop.place(customer, {sku: 1})
        assert answer.status_code == 202, answer.text
        accepted.append(answer.json()["order_id"])
    return accepted


def test_a_kill_loses_no_accepted_order_and_what_was_in_flight_settles_after_a_restart(tmp_path: Path):
    data_dir, sku, count = tmp_path / "data", new_sku(), 20

    # 1. Orders accepted, then SIGKILL while their payments, stock and e-mails are under way.
    dev = _start(tmp_path, data_dir, 1)
    try:
        shop = Shop(dev.client)
        ada = shop.customer("survivor")
        shop.restock(sku, 3 * count, "2.00")
        # Sign-ups are saved within a second (checkpoint.py), not before the answer.
        users = data_dir / "users.json"
        assert _eventually(lambda: users.exists() and ada.email in users.read_text(), 10)
        postmaster, pgdata = _postmaster(dev.client.state.database_url)
        moto = httpx.get(f"{dev.client.state.moto_url}/_local/process", timeout=10).json()["pid"]
        killed = _place(shop, ada, sku, count)
    finally:
        dev.process.kill()
        dev.process.wait()
    # moto's process, the embedded PostgreSQL and its scratch directory do not outlive it.
    assert _eventually(lambda: _gone(moto)), f"moto {moto} still runs"
    assert _eventually(lambda: _gone(postmaster)), f"postgres {postmaster} still runs"
    assert _eventually(lambda: not pgdata.parent.exists()), f"{pgdata.parent} is still there"

    # 2. Restarted: every accepted order is there, and settles; then a busy Ctrl-C.
    dev = _start(tmp_path, data_dir, 2)
    try:
        shop = Shop(dev.client)
        ada = _again(shop, ada)
        _settled(shop, ada, killed)
        assert shop.head(sku) == {"available": 2 * count, "reserved": 0, "committed": count}
        stopped = _place(shop, ada, sku, count)
    finally:
        began = time.monotonic()
        status = dev_process.stop(dev)
        stop_seconds = time.monotonic() - began
    phases = [line["phases"] for line in _logged(tmp_path / "dev-2.log", "stopped")]
    print(
        f"\nCtrl-C of a busy `orders dev --data-dir` took {stop_seconds:.2f} s; the runtime's steps: {phases}"
    )
    assert status == 0, dev.log_tail()
    # The last orders' events had not been handled at the kill: they were put on the stream again.
    (redriven,) = _logged(tmp_path / "dev-2.log", REDRIVEN)
    assert redriven["events"] > 0, redriven
    assert stop_seconds < 15, f"stopping took {stop_seconds:.1f} s"  # generous: about 2.5 s when quiet

    # 3. The orders accepted before the busy stop settle in the next run.
    dev = _start(tmp_path, data_dir, 3)
    try:
        shop = Shop(dev.client)
        ada = _again(shop, ada)
        _settled(shop, ada, killed + stopped)
        assert shop.head(sku) == {"available": count, "reserved": 0, "committed": 2 * count}
    finally:
        assert dev_process.stop(dev) == 0, dev.log_tail()
