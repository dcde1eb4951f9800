"""A moto server on 127.0.0.1 for one benchmark, with the topology's resources in it.

The same server and the same resources the local runtime uses (infra/local/resources.py),
started in this process so that the benchmark owns it and stops it.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

import httpx
from moto.server import ThreadedMotoServer

from infra.local.aws import FAKE_CREDENTIALS, REGION
from infra.local.moto_atomic import make_dynamodb_writes_atomic
from infra.local.resources import Resources, create_resources

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


@contextlib.contextmanager
def local_aws() -> Iterator[Resources]:
    """A moto server holding every resource of the topology (table, queues, bus, rules, SES, Cognito)."""
    with moto_server() as url:
        yield create_resources(url)
