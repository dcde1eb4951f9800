"""A moto server on 127.0.0.1 for one benchmark, with the topology's resources in it.

The same server and the same resources the local runtime uses (infra/emulator/resources.py),
started in this process so that the benchmark owns it and stops it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
from moto.server import ThreadedMotoServer

from infra.emulator.aws import FAKE_CREDENTIALS, REGION
from infra.emulator.moto_atomic import make_dynamodb_writes_atomic
from infra.emulator.resources import Resources, create_resources

HOST = "127.0.0.1"


def use_fake_credentials() -> None:
    """Clients made in this process (pynamodb's too) sign with credentials that reach nothing real."""
    os.environ.update(FAKE_CREDENTIALS)
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    os.environ.pop("AWS_PROFILE", None)


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A fresh moto server; yields its URL."""
    use_fake_credentials()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # not a line per request
    make_dynamodb_writes_atomic()
    server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
    server.start()
    try:
        url = "http://{}:{}".format(*server.get_host_and_port())
        httpx.post(f"{url}/moto-api/reset", timeout=30).raise_for_status()
        yield url
    finally:
        server.stop()


SERVE_PATCHED_MOTO = (
    "import sys; from infra.emulator.moto_atomic import make_dynamodb_writes_atomic; "
    "make_dynamodb_writes_atomic(); from moto.server import main; main(sys.argv[1:])"
)


@contextlib.contextmanager
def moto_process() -> Iterator[str]:
    """A moto server in a process of its own (its own interpreter lock), for bulk work; yields its URL.

    The same moto as `orders dev` runs: make_dynamodb_writes_atomic applied first.
    """
    use_fake_credentials()
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE_PATCHED_MOTO, "-H", HOST, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/moto-api/", timeout=5)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto server did not start on {url}") from None
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextlib.contextmanager
def local_aws() -> Iterator[Resources]:
    """A moto server holding every resource of the topology (table, queues, bus, rules, SES, Cognito)."""
    with moto_server() as url:
        yield create_resources(url)
