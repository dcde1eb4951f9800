"""boto3 clients pointed at the local moto server, with fake credentials that reach nothing real."""

from __future__ import annotations

import functools
import threading
from typing import Any

import boto3
from botocore.config import Config

REGION = "eu-west-1"
ACCOUNT_ID = "123456789012"  # moto's default account
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
}
_building = threading.Lock()  # boto3 sessions are not thread-safe while they build a client
# Local calls either answer at once or the server is gone: fail fast instead of retrying for minutes.
_CONFIG = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=60)


@functools.cache
def client(service: str, endpoint: str, *, region: str = REGION, caller: str | None = None) -> Any:
    """One client per service, endpoint and caller: botocore clients are thread-safe, and
    building one costs tens of milliseconds (it loads the service's model). `caller` is the
    application id in the client's User-Agent, how moto's request counter tells the local
    runtime's pumps apart (infra/emulator/request_counter.py)."""
    config = _CONFIG if caller is None else _CONFIG.merge(Config(user_agent_appid=caller))
    with _building:
        return boto3.session.Session().client(
            service,
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
            config=config,
        )
