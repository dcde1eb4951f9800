"""`orders dev --data-dir`: a customer's orders, the stock and the customer survive a restart.

Two runtimes one after the other on the same data directory, in this process, with the real
functions; everything observed over HTTP and through moto's AWS API.
"""

from __future__ import annotations

import json
from pathlib import Path

import jwt
import pytest

from infra.dev.client import DevClient
from infra.dev.runtime import LocalRuntime, Options
from tests.e2e.shop import Shop, new_sku

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
        assert shop.dev.wait_idle()  # the e-mail too: notification runs beside inventory
        assert len(shop.emails_to(ada.email)) == 1  # sent e-mails are not kept; the new order's is here
    finally:
        second.stop(save=False)
