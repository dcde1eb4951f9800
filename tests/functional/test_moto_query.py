"""moto's base-table query reads one partition (infra/emulator/moto_atomic.py) and still answers
exactly what DynamoDB answers: the partition's items, in key order, paged, filtered by range."""

from __future__ import annotations

import boto3
import pytest

from tests.support.backends import moto_table

pytestmark = pytest.mark.moto


def test_queries_answer_the_partition_in_key_order_with_ranges_pages_and_direction():
    with moto_table() as table:
        dynamodb = boto3.client("dynamodb")
        for pk in ("ORDER#a", "ORDER#b", "SKU#c"):
            for n in range(1, 8):
                dynamodb.put_item(TableName=table, Item={"PK": {"S": pk}, "SK": {"S": f"EV#{n:010d}"}})
        dynamodb.put_item(TableName=table, Item={"PK": {"S": "SKU#c"}, "SK": {"S": "HEAD"}})

        def keys(**extra) -> list[str]:
            answer = dynamodb.query(
                TableName=table,
                KeyConditionExpression="PK = :pk" + extra.pop("range", ""),
                ExpressionAttributeValues={":pk": {"S": extra.pop("pk")}, **extra.pop("values", {})},
                **extra,
            )
            return [item["SK"]["S"] for item in answer["Items"]]

        assert keys(pk="ORDER#b") == [f"EV#{n:010d}" for n in range(1, 8)]
        assert keys(pk="SKU#c") == [f"EV#{n:010d}" for n in range(1, 8)] + ["HEAD"]
        assert keys(pk="NOBODY") == []
        assert keys(
            pk="ORDER#a",
            range=" AND SK BETWEEN :lo AND :hi",
            values={":lo": {"S": "EV#0000000003"}, ":hi": {"S": "EV#0000000005"}},
        ) == ["EV#0000000003", "EV#0000000004", "EV#0000000005"]
        assert keys(pk="ORDER#a", ScanIndexForward=False, Limit=2) == ["EV#0000000007", "EV#0000000006"]
        first = dynamodb.query(
            TableName=table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": "ORDER#a"}},
            Limit=4,
        )
        rest = dynamodb.query(
            TableName=table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": "ORDER#a"}},
            ExclusiveStartKey=first["LastEvaluatedKey"],
        )
        assert [i["SK"]["S"] for i in first["Items"] + rest["Items"]] == [f"EV#{n:010d}" for n in range(1, 8)]
        # A read must not create the partition it asked for (moto's items are a defaultdict).
        assert dynamodb.scan(TableName=table, Select="COUNT")["Count"] == 22


def test_a_paged_parallel_scan_answers_what_one_page_per_segment_answers():
    """A page starts at its start key (moto_atomic); paging must not change what a segment holds."""
    with moto_table() as table:
        dynamodb = boto3.client("dynamodb")
        written = set()
        for p in range(40):
            for n in range(1, 1 + p % 9):
                dynamodb.put_item(
                    TableName=table, Item={"PK": {"S": f"ORDER#{p:03d}"}, "SK": {"S": f"EV#{n:03d}"}}
                )
                written.add((f"ORDER#{p:03d}", f"EV#{n:03d}"))

        def scan(segment: int, total: int, limit: int | None) -> list[tuple[str, str]]:
            keys, start = [], None
            while True:
                page = dynamodb.scan(
                    TableName=table,
                    Segment=segment,
                    TotalSegments=total,
                    **({"Limit": limit} if limit else {}),
                    **({"ExclusiveStartKey": start} if start else {}),
                )
                keys += [(i["PK"]["S"], i["SK"]["S"]) for i in page["Items"]]
                start = page.get("LastEvaluatedKey")
                if not start:
                    return keys

        for total in (1, 3):
            seen = []
            for segment in range(total):
                whole = scan(segment, total, None)
                assert scan(segment, total, 7) == whole == sorted(whole)
                seen += whole
            assert sorted(seen) == sorted(written)
