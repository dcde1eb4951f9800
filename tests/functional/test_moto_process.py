"""moto's process (infra/dev/moto_main.py, moto_process.py): it dies with the process that
started it, however that dies, a write it journaled before answering is on disk after, and
`orders dev` itself loads none of moto."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infra.dev import journal

pytestmark = pytest.mark.moto

ROOT = Path(__file__).resolve().parents[2]

# A stand-in for `orders dev`: starts moto's process, journals a table, writes one item through
# moto's API, says so, and waits to be killed.
PARENT = """
import json, sys, time
from infra.dev.moto_process import MotoProcess
from infra.emulator.aws import ACCOUNT_ID, REGION, client
moto = MotoProcess()
dynamodb = client("dynamodb", moto.url)
dynamodb.create_table(
    TableName="t", BillingMode="PAY_PER_REQUEST",
    KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
    AttributeDefinitions=[
        {"AttributeName": "PK", "AttributeType": "S"}, {"AttributeName": "SK", "AttributeType": "S"}
    ],
    StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
)
moto.attach_journal(sys.argv[1], (ACCOUNT_ID, REGION, "t"))
dynamodb.put_item(TableName="t", Item={"PK": {"S": "ORDER#1"}, "SK": {"S": "EV#1"}})
print(json.dumps({"moto": moto.pid}), flush=True)
time.sleep(600)
"""


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return "State:\tZ" in Path(f"/proc/{pid}/status").read_text()


def test_a_kill_of_the_whole_process_group_leaves_no_moto_and_keeps_the_journaled_write(tmp_path: Path):
    path = tmp_path / "journal.jsonl"
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(path)],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        start_new_session=True,  # a group of its own, to kill as a whole
    )
    try:
        assert parent.stdout is not None
        moto = json.loads(parent.stdout.readline())["moto"]
        assert moto != parent.pid
    finally:
        os.killpg(parent.pid, signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 20
    while not gone(moto) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gone(moto), f"moto's process {moto} outlived the killed parent"
    assert [line["keys"] for line in journal.read(path)] == [{"PK": {"S": "ORDER#1"}, "SK": {"S": "EV#1"}}]


def test_orders_dev_imports_no_moto_module():
    """moto's state and patches live in its own process: `orders dev`, the CLI and the runtime
    with its journal reader, load no moto module (journal_hook.py is moto's process's)."""
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, cli.main, infra.dev.runtime, infra.dev.persistence; "
            "print([m for m in sys.modules if m == 'moto' or m.startswith('moto.')])",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert completed.stdout.strip() == "[]"
