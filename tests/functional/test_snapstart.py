"""SnapStart: what an API function builds before its snapshot, and renews in each restored sandbox.

Lambda restores one snapshot into many sandboxes; a fork of an initialised process is the same
thing on one machine: two children share every byte of the parent's memory, as two restored
sandboxes share the snapshot's. Each child runs the runtime's after-restore hooks (as the
Lambda runtime does, from snapshot_restore_py's registry), then draws what must be unique.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from infra import topology
from infra.emulator.functions import CODE_ROOT
from tests.support.postgres import database_url

pytestmark = pytest.mark.postgres

RESTORE_TWICE = r"""
import json, os, random, sys
import handlers.query_orders  # init, as Lambda runs it before taking the snapshot
from snapshot_restore_py import get_after_restore
from ordering import bootstrap
from ordering.services.stamp import random_id

def backend():
    return bootstrap.postgres().read(lambda c: c.execute("select pg_backend_pid()").fetchone()[0])

from handlers.snapstart import generated_models

generated = generated_models()
report = {
    "built_at_init": sorted(m for m in sys.modules if m.startswith("ordering.adapters.")),
    "models": len(generated),
    "models_built": sum(1 for v in generated if v.__pydantic_complete__),
    "hooks": [f"{f.__module__}.{f.__qualname__}" for f, _, _ in get_after_restore()],
    "before_snapshot": backend(),  # a connection the snapshot would carry
    "sandboxes": [],
}
snapshot_of_random = random.getstate()
for _ in range(2):
    read, write = os.pipe()
    if os.fork() == 0:  # a restored sandbox
        os.close(read)
        # A restore brings the memory back byte for byte; fork alone also reseeds `random`
        # (its at-fork hook), which a restore does not: undo that.
        random.setstate(snapshot_of_random)
        if sys.argv[1] == "restore":
            for hook, args, kwargs in get_after_restore():
                hook(*args, **kwargs)
        drawn = {"random": random.random(), "id": random_id(), "backend": backend()}
        os.write(write, json.dumps(drawn).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        report["sandboxes"].append(json.loads(answer.read()))
    os.wait()
print(json.dumps(report))
"""


def _restore_twice(initialization_type: str, *, run_hooks: bool) -> dict:
    return _run_init(
        RESTORE_TWICE, "restore" if run_hooks else "no-hooks", initialization_type=initialization_type
    )


def _run_init(script: str, *args: str, initialization_type: str, function: str = "query_orders") -> Any:
    """What `script` prints last (JSON), run in a fresh process with Lambda's init variables."""
    env = {
        **os.environ,
        "AWS_LAMBDA_INITIALIZATION_TYPE": initialization_type,
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_REGION": "eu-west-1",
        "TABLE_NAME": "orders-snapstart-test",
        "DATABASE_URL": database_url(),
    }
    completed = subprocess.run(
        [sys.executable, "-c", script, *args],
        env=env,
        cwd=CODE_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.splitlines()[-1])


def test_two_restored_sandboxes_share_no_seed_no_id_and_no_connection():
    report = _restore_twice("snap-start", run_hooks=True)

    assert report["hooks"] == ["handlers.snapstart.renew"]
    one, two = report["sandboxes"]
    assert one["random"] != two["random"]
    assert one["id"] != two["id"]
    # Each opened its own connection: none uses the one the snapshot carried, nor the other's.
    assert len({report["before_snapshot"], one["backend"], two["backend"]}) == 3


def test_without_the_hooks_restored_sandboxes_would_share_them():
    """The control: the same fork without the hooks shares the seed and the connection."""
    report = _restore_twice("snap-start", run_hooks=False)

    one, two = report["sandboxes"]
    assert one["random"] == two["random"]
    assert one["backend"] == two["backend"] == report["before_snapshot"]
    assert one["id"] != two["id"]  # uuid4 draws from os.urandom: unique even so


def test_adapters_are_built_at_init_only_when_lambda_takes_a_snapshot():
    snapshotted = _restore_twice("snap-start", run_hooks=True)["built_at_init"]
    on_demand = _restore_twice("on-demand", run_hooks=True)["built_at_init"]

    assert {"ordering.adapters.dynamodb_event_store", "ordering.adapters.postgres_read_model"} <= set(
        snapshotted
    )
    assert "ordering.adapters.dynamodb_event_store" not in on_demand
    assert "ordering.adapters.postgres_read_model" not in on_demand


def test_every_generated_model_is_built_before_the_snapshot_and_left_to_first_use_otherwise():
    snapshotted = _restore_twice("snap-start", run_hooks=True)
    on_demand = _restore_twice("on-demand", run_hooks=True)

    assert snapshotted["models"] > 30
    assert snapshotted["models_built"] == snapshotted["models"]
    assert on_demand["models_built"] < on_demand["models"] / 2


MODELS_BUILT = r"""
import importlib, json, sys
from handlers.snapstart import generated_models

importlib.import_module(sys.argv[1])  # the handler's init, as Lambda runs it before the snapshot
generated = generated_models()
print(json.dumps([len(generated), sum(1 for v in generated if v.__pydantic_complete__)]))
"""


@pytest.mark.parametrize("function", [f for f in topology.FUNCTIONS if f.snap_start], ids=lambda f: f.name)
def test_every_snapstart_function_builds_the_models_before_its_snapshot(function):
    module = function.handler.rsplit(".", 1)[0]
    models, built = _run_init(MODELS_BUILT, module, initialization_type="snap-start", function=function.name)
    assert built == models > 30
