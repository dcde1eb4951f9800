"""`orders dev --data-dir`: the table and the users survive a restart; the stream does not replay them.

In-process runtimes with stand-in handlers (tests/e2e/stand_ins.py); the same with the real
handlers, from a customer's point of view, is in test_order_flow.py.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import jwt
import pytest

from infra.local.aws import client
from infra.local.client import DevClient
from infra.local.runtime import LocalRuntime, Options
from tests.e2e.conftest import eventually, recorded, stand_in_functions

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.moto,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.xdist_group("e2e"),
]


def items(moto_url: str) -> list[dict]:
    pages = (
        client("dynamodb", moto_url).get_paginator("scan").paginate(TableName="orders", ConsistentRead=True)
    )
    return sorted(
        (item for page in pages for item in page["Items"]), key=lambda i: (i["PK"]["S"], i["SK"]["S"])
    )


def streamed_keys(record_dir: Path) -> list[tuple[str, str]]:
    return [
        (record["dynamodb"]["Keys"]["PK"]["S"], record["dynamodb"]["Keys"]["SK"]["S"])
        for entry in recorded(record_dir, "projector")
        for record in entry["event"]["Records"]
    ]


def test_a_data_dir_keeps_the_table_and_the_users_across_a_restart(tmp_path: Path):
    record_dir, data_dir = tmp_path / "records", tmp_path / "data"
    record_dir.mkdir()
    options = Options(port=0, data_dir=data_dir, state_file=tmp_path / "dev.json", retry_delay=0.01)
    stream = f"ORDER#{uuid.uuid4()}"

    first = LocalRuntime(options, functions=stand_in_functions(record_dir))
    state = first.start()
    try:
        claims = jwt.decode(DevClient(state).token("keeper", admin=True), options={"verify_signature": False})
        dynamodb = client("dynamodb", state.moto_url)
        for version in (1, 2):
            item = {"PK": {"S": stream}, "SK": {"S": f"EV#{version:010d}"}, "note": {"S": "kept"}}
            dynamodb.put_item(TableName="orders", Item=item)
        eventually(lambda: len([k for k in streamed_keys(record_dir) if k[0] == stream]) == 2)
        before = items(state.moto_url)
    finally:
        first.stop()
    assert (data_dir / "table.jsonl").exists()
    assert json.loads((data_dir / "users.json").read_text())[0]["attributes"]["sub"] == claims["sub"]

    replays_before = len(recorded(record_dir, "replay"))
    second = LocalRuntime(options, functions=stand_in_functions(record_dir))
    state = second.start()
    try:
        assert items(state.moto_url) == before
        assert len(recorded(record_dir, "replay")) == replays_before + 1  # the read model was rebuilt
        again = jwt.decode(DevClient(state).token("keeper"), options={"verify_signature": False})
        assert again["sub"] == claims["sub"]
        assert again["cognito:groups"] == ["admin"]
        assert again["iss"] != claims["iss"]  # a new pool: tokens of the last run are not valid any more

        item = {"PK": {"S": stream}, "SK": {"S": "EV#0000000003"}, "note": {"S": "new"}}
        client("dynamodb", state.moto_url).put_item(TableName="orders", Item=item)
        eventually(lambda: (stream, "EV#0000000003") in streamed_keys(record_dir))
        # The restored items were not streamed again: each key of the stream reached the consumer once.
        assert [k for k in streamed_keys(record_dir) if k[0] == stream] == [
            (stream, "EV#0000000001"),
            (stream, "EV#0000000002"),
            (stream, "EV#0000000003"),
        ]
    finally:
        second.stop(save=False)
