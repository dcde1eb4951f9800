"""moto answers from a process of its own, not `orders dev`'s, and counts each caller there;
moto and the API gateway keep a client's connection open between requests."""

from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from infra.emulator.aws import client
from infra.emulator.request_counter import difference
from tests.e2e.shop import Shop

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("e2e")]


def test_moto_runs_in_a_process_of_its_own_that_counts_each_caller(shop: Shop):
    state = shop.dev.state
    moto_pid = httpx.get(f"{state.moto_url}/_local/process", timeout=10).json()["pid"]
    assert moto_pid != state.pid
    assert Path(f"/proc/{moto_pid}").exists()

    before = shop.dev.requests()  # asked of `orders dev`'s control endpoint, which asks moto's process
    client("sqs", state.moto_url, caller="moto-process-probe").list_queues()
    counted = difference(shop.dev.requests(), before)["callers"]["moto-process-probe"]
    assert counted == {"total": 1, "operations": {"sqs.ListQueues": 1}}


@pytest.mark.parametrize("server", ["moto", "gateway"])
def test_two_requests_travel_on_one_connection(shop: Shop, server: str):
    state = shop.dev.state
    url = urlparse(state.moto_url + "/_local/process" if server == "moto" else state.api_url + "/orders")
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        ports = []
        for _ in range(2):
            connection.request("GET", url.path)
            answer = connection.getresponse()
            answer.read()
            assert answer.status in (200, 401), answer.status
            assert answer.getheader("Connection", "").lower() != "close"
            assert connection.sock is not None  # http.client drops a socket the server closes
            ports.append(connection.sock.getsockname()[1])
        assert ports[0] == ports[1]
    finally:
        connection.close()
