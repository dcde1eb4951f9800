"""`orders dev --data-dir` on disk: the journal holds exactly the writes moto committed, in order,
and the files fold back to the table, whatever point a kill stopped them at.

moto in this process (as in `orders dev`), with DynamoDB's atomic writes and transactions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from infra.dev import journal, journal_hook, persistence
from infra.dev.checkpoint import Checkpointer
from infra.emulator.moto_atomic import write_lock
from tests.support.backends import moto_table

pytestmark = pytest.mark.moto
ACCOUNT = "123456789012"  # moto's


def item(pk: str, sk: str, **attributes: str) -> dict:
    return {"PK": {"S": pk}, "SK": {"S": sk}, **{name: {"S": value} for name, value in attributes.items()}}


@pytest.fixture
def journaled(tmp_path: Path) -> Iterator[tuple[str, journal.Journal]]:
    with moto_table() as table:
        region = boto3.client("dynamodb").meta.region_name
        log = journal.Journal(tmp_path / persistence.JOURNAL_FILE, ordering=write_lock())
        journal_hook.attach(ACCOUNT, region, table, log)
        try:
            yield table, log
        finally:
            journal_hook.detach(ACCOUNT, region, table)
            log.close()


def table_items(table: str) -> dict[str, dict]:
    scanned = boto3.client("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]
    return {json.dumps({"PK": i["PK"], "SK": i["SK"]}, sort_keys=True): i for i in scanned}


def test_every_committed_write_is_journaled_in_order_and_a_refused_or_cancelled_one_is_not(
    tmp_path: Path, journaled: tuple[str, journal.Journal]
):
    table, log = journaled
    dynamodb = boto3.client("dynamodb")
    dynamodb.put_item(TableName=table, Item=item("ORDER#a", "EV#0000000001", type="OrderPlaced"))
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        dynamodb.put_item(
            TableName=table,
            Item=item("ORDER#a", "EV#0000000001", type="Forged"),
            ConditionExpression="attribute_not_exists(PK)",
        )
    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": item("ORDER#b", "EV#0000000001", type="Lost")}},
                {
                    "Put": {
                        "TableName": table,
                        "Item": item("ORDER#a", "EV#0000000001", type="Clash"),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
        )
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": item("ORDER#a", "EV#0000000002", type="PaymentSucceeded")}},
            {"Put": {"TableName": table, "Item": item("SKU#x", "HEAD", available="4")}},
        ]
    )
    dynamodb.update_item(
        TableName=table,
        Key={"PK": {"S": "SKU#x"}, "SK": {"S": "HEAD"}},
        UpdateExpression="SET available = :n",
        ExpressionAttributeValues={":n": {"S": "3"}},
    )
    dynamodb.batch_write_item(
        RequestItems={
            table: [
                {"PutRequest": {"Item": item("IDEMPOTENCY#1", "IDEMPOTENCY", status="COMPLETED")}},
                {"DeleteRequest": {"Key": {"PK": {"S": "ORDER#a"}, "SK": {"S": "EV#0000000002"}}}},
            ]
        }
    )

    lines = journal.read(log.path)
    assert [(line["n"], line["keys"]["PK"]["S"], line["new"] is not None) for line in lines] == [
        (1, "ORDER#a", True),
        (2, "ORDER#a", True),  # the transaction's two puts, nothing of the cancelled one
        (3, "SKU#x", True),
        (4, "SKU#x", True),
        (5, "IDEMPOTENCY#1", True),
        (6, "ORDER#a", False),  # a delete
    ]
    assert persistence.fold(tmp_path).items == table_items(table)


def test_the_files_fold_to_the_table_and_only_unsettled_events_are_redriven(tmp_path: Path):
    def line(n: int, pk: str, sk: str, new: bool = True) -> str:
        keys = {"PK": {"S": pk}, "SK": {"S": sk}}
        return json.dumps({"n": n, "keys": keys, "new": item(pk, sk, n=str(n)) if new else None}) + "\n"

    # Invocations running at the kill: their "in progress" idempotency record and lease go with them.
    running = {**item("IDEMPOTENCY#p", "x", status="INPROGRESS"), "in_progress_expiration": {"N": "1"}}
    running_keys = {"PK": running["PK"], "SK": running["SK"]}
    lease = {**item("lease#notice#a#order_confirmation", "LEASE"), "until_ms": {"N": "1"}}
    lease_keys = {"PK": lease["PK"], "SK": lease["SK"]}
    (tmp_path / persistence.TABLE_FILE).write_text(json.dumps(item("ORDER#old", "EV#0000000001")) + "\n")
    (tmp_path / persistence.REDRIVE_FILE).write_text(
        json.dumps({"PK": {"S": "ORDER#old"}, "SK": {"S": "EV#0000000001"}}) + "\n"
    )
    (tmp_path / persistence.SEALED_FILE).write_text(
        line(1, "ORDER#a", "EV#0000000001") + line(2, "SKU#x", "HEAD")
    )
    (tmp_path / persistence.JOURNAL_FILE).write_text(
        line(3, "ORDER#a", "EV#0000000002")
        + line(4, "ORDER#b", "EV#0000000001")
        + line(5, "SKU#x", "HEAD")
        + json.dumps({"n": 6, "keys": running_keys, "new": running})
        + "\n"
        + json.dumps({"n": 7, "keys": lease_keys, "new": lease})
        + "\n"
        + '{"n": 8, "keys": {"PK"'  # a kill in the middle of a write
    )
    (tmp_path / persistence.SETTLED_FILE).write_text("3")

    folded = persistence.compact(tmp_path)

    assert sorted(json.loads(k)["PK"]["S"] + " " + json.loads(k)["SK"]["S"] for k in folded.items) == [
        "ORDER#a EV#0000000001",
        "ORDER#a EV#0000000002",
        "ORDER#b EV#0000000001",
        "ORDER#old EV#0000000001",
        "SKU#x HEAD",
    ]
    assert folded.items[json.dumps({"PK": {"S": "SKU#x"}, "SK": {"S": "HEAD"}}, sort_keys=True)]["n"] == {
        "S": "5"
    }
    # Still in flight: what redrive.jsonl held, and the events journaled after line 3 (not the head).
    assert [(k["PK"]["S"], k["SK"]["S"]) for k in folded.redrive.values()] == [
        ("ORDER#old", "EV#0000000001"),
        ("ORDER#b", "EV#0000000001"),
    ]
    left = sorted(path.name for path in tmp_path.iterdir())
    assert left == [persistence.REDRIVE_FILE, persistence.TABLE_FILE]  # a new run numbers from 1
    assert persistence.fold(tmp_path) == folded  # folding again changes nothing

    persistence.mark_settled(tmp_path, 1)
    assert persistence.fold(tmp_path).redrive == {}


def test_a_snapshot_taken_while_writes_go_on_keeps_every_write(
    tmp_path: Path, journaled: tuple[str, journal.Journal]
):
    table, log = journaled
    dynamodb = boto3.client("dynamodb")
    checkpointer = Checkpointer(tmp_path, log, settled_up_to=lambda: None, users=lambda: [])
    for n in range(1, 6):
        dynamodb.put_item(TableName=table, Item=item("ORDER#a", f"EV#{n:010d}"))
    checkpointer.snapshot()
    assert not (tmp_path / persistence.SEALED_FILE).exists()
    assert len(journal.read(log.path)) == 0
    for n in range(6, 9):
        dynamodb.put_item(TableName=table, Item=item("ORDER#a", f"EV#{n:010d}"))
    dynamodb.delete_item(TableName=table, Key={"PK": {"S": "ORDER#a"}, "SK": {"S": "EV#0000000001"}})

    assert [line["n"] for line in journal.read(log.path)] == [6, 7, 8, 9]  # numbering goes on
    folded = persistence.fold(tmp_path)
    assert folded.items == table_items(table)
    assert len(folded.redrive) == 7  # nothing settled: every event but the deleted one
